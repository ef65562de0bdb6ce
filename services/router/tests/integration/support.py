"""What the router's integration tests share: the catalog override and keys of the two fake
OpenAI-compatible upstreams (``openai`` and ``groq``), and the router under test as the tests
drive it (its gRPC stub, the facts it published)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nats
from nats.js.errors import NotFoundError
from tollgate.events.v1 import usage_pb2
from tollgate.router.v1 import router_pb2 as pb
from tollgate.router.v1 import router_pb2_grpc
from tollgate_common.bus import USAGE_RECORDED

from tests.fakes.openai_upstream import FakeOpenAI

OPENAI_KEY = "sk-openai-router-tests"
GROQ_KEY = "gsk-groq-router-tests"
PRICE = {"input": "0.000001", "output": "0.000002", "input_cache_read": "0.0000005"}
CATALOG_OVERRIDE = {
    "version": "router-tests",
    "models": [
        {
            "id": "acme/echo-1",
            "name": "Echo 1",
            "providers": [
                {"provider": "openai", "provider_model_id": "echo-1-openai", "pricing": PRICE},
                {"provider": "groq", "provider_model_id": "echo-1-groq", "pricing": PRICE},
            ],
        },
        {
            "id": "acme/echo-2",
            "providers": [
                {"provider": "mistral", "provider_model_id": "echo-2-mistral", "pricing": PRICE},
                {"provider": "openai", "provider_model_id": "echo-2-openai", "pricing": PRICE},
            ],
        },
        {
            "id": "acme/lonely",
            "providers": [{"provider": "mistral", "pricing": PRICE}],
        },
    ],
}


@dataclass(frozen=True)
class RouterUnderTest:
    stub: router_pb2_grpc.RouterServiceAsyncStub
    nats_url: str
    openai: FakeOpenAI
    groq: FakeOpenAI
    # Stops the router as SIGTERM does (a second call does nothing).
    stop: Callable[[], Awaitable[None]]

    async def messages(self, request: pb.StreamGenerateRequest) -> list[pb.StreamGenerateResponse]:
        """The call's messages as they came (events that were ready together in one batch)."""
        return [response async for response in self.stub.StreamGenerate(request, timeout=30)]

    async def generate(self, request: pb.StreamGenerateRequest) -> list[pb.StreamGenerateResponse]:
        """A stream's events one by one, as the edge reads them (batches opened); a
        non-streaming answer's one message (the unary ``Generate``, as the edge asks for it)."""
        if not request.stream:
            return [await self.stub.Generate(request, timeout=30)]
        messages = await self.messages(request)
        return [e for m in messages for e in (m.batch.events if m.HasField("batch") else [m])]

    async def usage_fact(
        self, generation_id: str, timeout: float = 15.0
    ) -> tuple[dict[str, str], usage_pb2.UsageRecorded]:
        """The UsageRecorded fact of ``generation_id`` as stored in JetStream."""
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                try:
                    message = await js.get_last_msg("TOLLGATE_USAGE", USAGE_RECORDED)
                except NotFoundError:
                    message = None
                headers = dict(message.headers or {}) if message is not None else {}
                if message is not None and headers.get("Nats-Msg-Id") == generation_id:
                    assert message.data is not None
                    return headers, usage_pb2.UsageRecorded.FromString(message.data)
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"no usage fact for {generation_id}")
                await asyncio.sleep(0.05)
        finally:
            await nc.close()


# Starts the router (and its two fake upstreams) against the NATS server at a URL.
StartRouter = Callable[..., Awaitable[RouterUnderTest]]
