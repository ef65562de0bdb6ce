"""A real router gRPC server (port 0, SQLite outbox, real nats-server) in front of two fake
OpenAI-compatible upstreams: ``openai`` and ``groq``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import nats
import pytest
from nats.js.errors import NotFoundError
from tollgate.events.v1 import usage_pb2
from tollgate.router.v1 import router_pb2 as pb
from tollgate.router.v1 import router_pb2_grpc
from tollgate_common.bus import USAGE_RECORDED
from tollgate_common.testing import nats_server
from tollgate_router.app import RouterApp
from tollgate_router.settings import RouterSettings

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


@dataclass
class RouterUnderTest:
    stub: router_pb2_grpc.RouterServiceAsyncStub
    nats_url: str
    openai: FakeOpenAI
    groq: FakeOpenAI

    async def generate(self, request: pb.StreamGenerateRequest) -> list[pb.StreamGenerateResponse]:
        return [response async for response in self.stub.StreamGenerate(request, timeout=30)]

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


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    with nats_server(tmp_path / "jetstream") as url:
        yield url


StartRouter = Callable[..., Awaitable[RouterUnderTest]]


@pytest.fixture
async def start_router(tmp_path: Path) -> AsyncIterator[StartRouter]:
    """Starts the router (and its two fake upstreams) against the NATS server at a URL."""
    stops: list[Callable[[], Awaitable[None]]] = []

    async def start(nats_url: str, **settings_overrides: Any) -> RouterUnderTest:
        openai, groq = FakeOpenAI(OPENAI_KEY), FakeOpenAI(GROQ_KEY)
        await openai.start()
        stops.append(openai.stop)
        await groq.start()
        stops.append(groq.stop)
        override = tmp_path / "catalog.json"
        override.write_text(json.dumps(CATALOG_OVERRIDE))
        settings = RouterSettings(
            listen_addr="127.0.0.1:0",
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'router.db'}",
            nats_url=nats_url,
            catalog_file=override,
            data_dir=tmp_path,
            shutdown_grace_seconds=5,
            # No billing here (the suite tests cover reservations), unless a test asks; no auth
            # either (stored BYOK keys are the suite tests'): nothing listens there.
            **{"preflight": False, "auth_addr": "127.0.0.1:1", **settings_overrides},
        )
        environ = {
            "TOLLGATE_PROVIDER_OPENAI_BASE_URL": openai.base_url,
            "TOLLGATE_PROVIDER_OPENAI_API_KEY": OPENAI_KEY,
            "TOLLGATE_PROVIDER_GROQ_BASE_URL": groq.base_url,
            "GROQ_API_KEY": GROQ_KEY,
        }
        app = RouterApp(settings, environ=environ)
        port = await app.start()
        stops.append(app.stop)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        stops.append(channel.close)
        return RouterUnderTest(router_pb2_grpc.RouterServiceStub(channel), nats_url, openai, groq)

    yield start
    for stop in reversed(stops):
        await stop()


@pytest.fixture
async def router(nats_url: str, start_router: StartRouter) -> RouterUnderTest:
    # nats_url is set up first, so it is torn down last: the router drains into a live NATS.
    return await start_router(nats_url)
