"""Test doubles of our own router, billing and activity services on one in-process grpc.aio
server (port 0), and the edge started in front of them on a free port (in the test's process,
or as ``python -m tollgate_edge``).

The fake router is driven by the requested model id, so each test picks a behaviour by name
(``test/ok``, ``test/no-provider``, ``test/error-after-start``, ...).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from tollgate.activity.v1 import activity_pb2, activity_pb2_grpc
from tollgate.billing.v1 import billing_pb2, billing_pb2_grpc
from tollgate.router.v1 import router_pb2, router_pb2_grpc
from tollgate_common.errors import DomainError, NotFound
from tollgate_common.interceptors import ErrorInterceptor
from tollgate_common.testing import free_port
from tollgate_edge.app import EdgeServer
from tollgate_edge.settings import EdgeSettings

GEN_ID = "gen_01ARZ3NDEKTSV4RRFFQ69G5FAV"
CREATED = 1_700_000_000
HEADERS = {
    "x-tollgate-team-id": "team_1",
    "x-tollgate-team-slug": "default",
    "x-tollgate-user-id": "user_1",
    "x-tollgate-key-id": "key_1",
    "x-tollgate-project-id": "prj_1",
    "x-tollgate-role": "member",
    "x-tollgate-auth-method": "api-key",
}


def _error(
    code: grpc.StatusCode, reason: str, metadata: dict[str, str] | None = None
) -> DomainError:
    error = DomainError(f"fake {reason.lower()}", metadata=metadata)
    error.code, error.reason = code, reason
    return error


# Failures before `started`, by model id: (status, reason, ErrorInfo metadata).
ROUTER_ERRORS: dict[str, tuple[grpc.StatusCode, str, dict[str, str]]] = {
    "test/no-provider": (grpc.StatusCode.UNAVAILABLE, "NO_PROVIDER_AVAILABLE", {}),
    "test/provider-error": (grpc.StatusCode.UNAVAILABLE, "PROVIDER_ERROR", {}),
    "test/unknown": (grpc.StatusCode.NOT_FOUND, "MODEL_NOT_FOUND", {"param": "model"}),
    "test/broke": (grpc.StatusCode.RESOURCE_EXHAUSTED, "INSUFFICIENT_FUNDS", {}),
    "test/provider-429": (
        grpc.StatusCode.UNAVAILABLE,
        "PROVIDER_ERROR",
        {"http_status": "429", "type": "rate_limit_exceeded", "code": "upstream_rate_limited"},
    ),
}


def _ts(seconds: int, millis: int = 0) -> Timestamp:
    return Timestamp(seconds=seconds, nanos=millis * 1_000_000)


def started_event() -> router_pb2.StreamGenerateResponse:
    return router_pb2.StreamGenerateResponse(
        started=router_pb2.GenerationStarted(
            generation_id=GEN_ID,
            model="openai/gpt-4o",
            provider="openai",
            created=_ts(CREATED),
            provider_model_id="gpt-4o",
            system_fingerprint="fp_test",
        )
    )


def text_event(text: str) -> router_pb2.StreamGenerateResponse:
    return router_pb2.StreamGenerateResponse(text_delta=router_pb2.TextDelta(text=text))


def usage_event() -> router_pb2.StreamGenerateResponse:
    return router_pb2.StreamGenerateResponse(
        usage=router_pb2.Usage(
            input_tokens=12, output_tokens=3, total_tokens=15, cached_input_tokens=4
        )
    )


def finished_event() -> router_pb2.StreamGenerateResponse:
    attempt = router_pb2.ProviderAttempt(
        provider="openai",
        provider_api_model_id="gpt-4o",
        credential_type="system",
        success=True,
        start_time=_ts(CREATED, 5),
        end_time=_ts(CREATED + 1, 250),
        status_code=200,
        provider_response_id="chatcmpl-1",
    )
    metadata = router_pb2.GatewayMetadata(
        generation_id=GEN_ID,
        cost="0.0000600",
        market_cost="0.00006",
        routing=router_pb2.RoutingInfo(
            original_model_id="openai/gpt-4o",
            resolved_provider="openai",
            resolved_provider_api_model_id="gpt-4o",
            final_provider="openai",
            attempts=[attempt],
            fallbacks_available=["azure"],
            canonical_slug="openai/gpt-4o",
        ),
    )
    return router_pb2.StreamGenerateResponse(
        finished=router_pb2.GenerationFinished(
            finish_reason="stop",
            provider_metadata=router_pb2.ProviderMetadata(gateway=metadata),
        )
    )


def generation_error_event() -> router_pb2.StreamGenerateResponse:
    return router_pb2.StreamGenerateResponse(
        error=router_pb2.GenerationError(
            reason="PROVIDER_ERROR", message="the provider broke off", code="cut"
        )
    )


def catalog_model() -> router_pb2.Model:
    return router_pb2.Model(
        id="openai/gpt-4o",
        name="GPT-4o",
        description="OpenAI's flagship",
        creator="openai",
        type="language",
        context_window=128_000,
        max_output_tokens=16_384,
        released=1_715_558_400,
        pricing=router_pb2.Pricing(
            input="0.0000025", output="0.00001", input_cache_read="0.00000125"
        ),
        providers=["openai", "azure"],
    )


class FakeRouter(router_pb2_grpc.RouterServiceServicer):
    def __init__(self) -> None:
        self.requests: list[router_pb2.StreamGenerateRequest] = []
        self.metadata: list[dict[str, Any]] = []
        self.cancelled = asyncio.Event()
        # `test/held` answers "tick", then waits for this before the rest of its answer.
        self.release = asyncio.Event()
        # Model → the events to answer with after `started` (tests of what the edge renders).
        self.scripted: dict[str, list[router_pb2.StreamGenerateResponse]] = {}
        # The RPC each generation came by ("Generate" or "StreamGenerate").
        self.methods: list[str] = []
        # A router of an earlier release, without the unary Generate.
        self.without_generate = False

    async def Generate(  # type: ignore[override]
        self, request: router_pb2.StreamGenerateRequest, context: Any
    ) -> router_pb2.StreamGenerateResponse:
        """As the router answers it: StreamGenerate's events in one batch."""
        if self.without_generate:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")
        self.methods.append("Generate")
        events = [event async for event in self._events(request, context)]
        return router_pb2.StreamGenerateResponse(batch=router_pb2.EventBatch(events=events))

    async def Generations(  # type: ignore[override]
        self, request_iterator: Any, context: Any
    ) -> AsyncIterator[router_pb2.GenerationsResponse]:
        """As a router of the release before lanes answers it (the edge then falls back to
        ``Generate``), with the status itself rather than the generated base's exception."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")
        yield router_pb2.GenerationsResponse()  # never reached: makes this a stream handler

    async def StreamGenerate(  # type: ignore[override]
        self, request: router_pb2.StreamGenerateRequest, context: Any
    ) -> AsyncIterator[router_pb2.StreamGenerateResponse]:
        self.methods.append("StreamGenerate")
        async for event in self._events(request, context):
            yield event

    async def _events(  # type: ignore[override]
        self, request: router_pb2.StreamGenerateRequest, context: Any
    ) -> AsyncIterator[router_pb2.StreamGenerateResponse]:
        self.requests.append(request)
        self.metadata.append(dict(context.invocation_metadata()))
        model = request.model
        if model in ROUTER_ERRORS:
            code, reason, metadata = ROUTER_ERRORS[model]
            raise _error(code, reason, metadata)
        if model == "test/error-before-start":
            yield generation_error_event()
            return
        if model == "test/slow-start":
            await asyncio.sleep(30)
        yield started_event()
        if model in self.scripted:
            for event in self.scripted[model]:
                yield event
            return
        try:
            if model == "test/slow":
                yield text_event("tick")
                await asyncio.sleep(30)
            if model == "test/held":
                yield text_event("tick")
                await self.release.wait()
            yield text_event("Hello")
            yield text_event(", world")
            if model == "test/error-after-start":
                yield generation_error_event()
                return
            if model == "test/abort-after-start":
                raise _error(grpc.StatusCode.UNAVAILABLE, "PROVIDER_ERROR")
            if model == "test/no-finish":
                return
            yield usage_event()
            yield finished_event()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise

    async def ListModels(  # type: ignore[override]
        self, request: router_pb2.ListModelsRequest, context: Any
    ) -> router_pb2.ListModelsResponse:
        bare = router_pb2.Model(id="acme/tiny", creator="acme", type="language")
        return router_pb2.ListModelsResponse(models=[catalog_model(), bare])

    async def GetModel(  # type: ignore[override]
        self, request: router_pb2.GetModelRequest, context: Any
    ) -> router_pb2.GetModelResponse:
        if request.id != "openai/gpt-4o":
            raise _error(grpc.StatusCode.NOT_FOUND, "MODEL_NOT_FOUND")
        return router_pb2.GetModelResponse(model=catalog_model())


class FakeBilling(billing_pb2_grpc.BillingServiceServicer):
    def __init__(self) -> None:
        self.requests: list[billing_pb2.GetGenerationRequest] = []

    async def GetGeneration(  # type: ignore[override]
        self, request: billing_pb2.GetGenerationRequest, context: Any
    ) -> billing_pb2.GetGenerationResponse:
        self.requests.append(request)
        if request.generation_id != GEN_ID or request.team_id != "team_1":
            raise NotFound("generation not found")
        return billing_pb2.GetGenerationResponse(
            generation=billing_pb2.Generation(
                id=GEN_ID,
                team_id="team_1",
                model="openai/gpt-4o",
                provider="openai",
                credential_type="system",
                streamed=True,
                finish_reason="stop",
                input_tokens=100,
                output_tokens=50,
                cached_input_tokens=20,
                cache_write_tokens=0,
                reasoning_tokens=7,
                cost="0.0004505",
                market_cost="0.0004505",
                ttft_ms=200,
                latency_ms=1500,
                created_at=_ts(CREATED, 123),
            )
        )


class FakeActivity(activity_pb2_grpc.ActivityServiceServicer):
    def __init__(self) -> None:
        self.requests: list[activity_pb2.ListRequestsRequest] = []

    async def ListRequests(  # type: ignore[override]
        self, request: activity_pb2.ListRequestsRequest, context: Any
    ) -> activity_pb2.ListRequestsResponse:
        self.requests.append(request)
        entry = activity_pb2.RequestLogEntry(
            generation_id=GEN_ID,
            created_at=_ts(CREATED),
            team_id=request.team_id,
            key_id="key_1",
            model="openai/gpt-4o",
            provider="openai",
            credential_type="system",
            input_tokens=12,
            output_tokens=3,
            cost="0.00006",
            market_cost="0.00006",
            ttft_ms=120,
            latency_ms=480,
            streamed=True,
            finish_reason="stop",
            status="success",
            app_title="Suite",
            attempts=1,
        )
        next_token = "" if request.page_token else "cursor_2"
        return activity_pb2.ListRequestsResponse(entries=[entry], next_page_token=next_token)


@dataclass
class Fakes:
    port: int
    router: FakeRouter = field(default_factory=FakeRouter)
    billing: FakeBilling = field(default_factory=FakeBilling)
    activity: FakeActivity = field(default_factory=FakeActivity)

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class Edge:
    """A running edge; tests read the fakes and the constants from here (with
    --import-mode=importlib a test module cannot import this conftest)."""

    port: int
    fakes: Fakes
    gen_id: str = GEN_ID
    created: int = CREATED
    headers: dict[str, str] = field(default_factory=lambda: dict(HEADERS))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    port = server.add_insecure_port("127.0.0.1:0")
    running = Fakes(port=port)
    router_pb2_grpc.add_RouterServiceServicer_to_server(running.router, server)
    billing_pb2_grpc.add_BillingServiceServicer_to_server(running.billing, server)
    activity_pb2_grpc.add_ActivityServiceServicer_to_server(running.activity, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    try:
        yield running
    finally:
        await server.stop(0)


@asynccontextmanager
async def run_edge(fakes: Fakes, **overrides: Any) -> AsyncIterator[Edge]:
    port = free_port()
    values: dict[str, Any] = {
        "listen_addr": f"127.0.0.1:{port}",
        "auth_addr": fakes.addr,
        "router_addr": fakes.addr,
        "billing_addr": fakes.addr,
        "activity_addr": fakes.addr,
        "shutdown_grace_seconds": 1.0,
        # The tests send the identity headers Envoy's ext_authz would add; the edge's own
        # authentication of the hot routes is tested with the real stack (tests/suite).
        "authenticate_hot_routes": False,
    }
    values.update(overrides)
    server = EdgeServer(EdgeSettings(**values))
    await server.start()
    try:
        yield Edge(port=port, fakes=fakes)
    finally:
        await server.stop()


@dataclass
class EdgeProcess:
    """``python -m tollgate_edge`` in front of the fakes; its JSON log lines go to ``log``."""

    edge: Edge
    process: asyncio.subprocess.Process
    log: Path


async def _until_listening(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(300):
        if process.returncode is not None:
            raise RuntimeError(f"the edge exited with {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise TimeoutError(f"the edge did not listen on {port}")


@pytest.fixture
async def edge_process(fakes: Fakes, tmp_path: Path) -> AsyncIterator[EdgeProcess]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_")}
    env.update(
        TOLLGATE_EDGE_LISTEN_ADDR=f"127.0.0.1:{port}",
        TOLLGATE_AUTH_ADDR=fakes.addr,
        TOLLGATE_ROUTER_ADDR=fakes.addr,
        TOLLGATE_BILLING_ADDR=fakes.addr,
        TOLLGATE_ACTIVITY_ADDR=fakes.addr,
        TOLLGATE_SHUTDOWN_GRACE_SECONDS="30",
        TOLLGATE_EDGE_AUTHENTICATE_HOT_ROUTES="false",
    )
    log = tmp_path / "edge.log"
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tollgate_edge",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        await _until_listening(port, process)
        yield EdgeProcess(Edge(port=port, fakes=fakes), process, log)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


EdgeFactory = Callable[..., Any]


@pytest.fixture
async def edge(fakes: Fakes) -> AsyncIterator[Edge]:
    async with run_edge(fakes) as running:
        yield running


@pytest.fixture
def edge_with(fakes: Fakes) -> EdgeFactory:
    """``async with edge_with(generation_deadline_seconds=0.5) as edge: ...``"""
    return lambda **overrides: run_edge(fakes, **overrides)
