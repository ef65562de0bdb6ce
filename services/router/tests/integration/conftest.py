"""A real router gRPC server (port 0, SQLite outbox, real nats-server) in front of two fake
OpenAI-compatible upstreams: ``openai`` and ``groq``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from tollgate.router.v1 import router_pb2_grpc
from tollgate_common.testing import nats_server
from tollgate_router.app import RouterApp
from tollgate_router.settings import RouterSettings

from tests.fakes.openai_upstream import FakeOpenAI

from .support import CATALOG_OVERRIDE, GROQ_KEY, OPENAI_KEY, RouterUnderTest, StartRouter


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    with nats_server(tmp_path / "jetstream") as url:
        yield url


@pytest.fixture
async def start_router(tmp_path: Path) -> AsyncIterator[StartRouter]:
    """Starts the router (and its two fake upstreams) against the NATS server at a URL."""
    stops: list[Callable[[], Awaitable[None]]] = []

    async def start(
        nats_url: str, *, upstream_host: str = "127.0.0.1", **settings_overrides: Any
    ) -> RouterUnderTest:
        openai, groq = FakeOpenAI(OPENAI_KEY), FakeOpenAI(GROQ_KEY)
        await openai.start(host=upstream_host)
        stops.append(openai.stop)
        await groq.start(host=upstream_host)
        stops.append(groq.stop)
        override = tmp_path / "catalog.json"
        override.write_text(json.dumps(CATALOG_OVERRIDE))
        settings = RouterSettings(
            listen_addr="127.0.0.1:0",
            nats_url=nats_url,
            catalog_file=override,
            data_dir=tmp_path,
            shutdown_grace_seconds=5,
            # No billing here (the suite tests cover reservations), unless a test asks; no auth
            # either (stored BYOK keys are the suite tests'): nothing listens there.
            **{
                "database_url": f"sqlite+aiosqlite:///{tmp_path / 'router.db'}",
                "preflight": False,
                "auth_addr": "127.0.0.1:1",
                **settings_overrides,
            },
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
        stub = router_pb2_grpc.RouterServiceStub(channel)
        return RouterUnderTest(stub, nats_url, openai, groq, app.stop)

    yield start
    for stop in reversed(stops):
        await stop()


@pytest.fixture
async def router(nats_url: str, start_router: StartRouter) -> RouterUnderTest:
    # nats_url is set up first, so it is torn down last: the router drains into a live NATS.
    return await start_router(nats_url)
