"""Fixtures of auth's tests: a migrated database (SQLite, and PostgreSQL when available) and
the real auth gRPC server on port 0."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from tollgate.auth.v1 import auth_pb2_grpc
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2_grpc
from tollgate_auth.app import MIGRATIONS_DIR, AuthApp
from tollgate_auth.settings import AuthSettings
from tollgate_common.db import migrate_async
from tollgate_common.testing import nats_server, scratch_database

BOOTSTRAP_ENV = "TOLLGATE_BOOTSTRAP_API_KEY"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the auth settings they set themselves."""
    for name in list(os.environ):
        if name.startswith("TOLLGATE_AUTH_") or name in {BOOTSTRAP_ENV, "TOLLGATE_DATA_DIR"}:
            monkeypatch.delenv(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty auth database."""
    async with scratch_database(request.param, tmp_path, "auth") as url:
        await migrate_async(url, MIGRATIONS_DIR)
        yield url


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real nats-server (JetStream) for the auth servers of every test."""
    with nats_server(tmp_path_factory.mktemp("auth-nats")) as url:
        yield url


@pytest.fixture
def make_settings(database_url: str, data_dir: Path, nats_url: str) -> Callable[..., AuthSettings]:
    """Settings for a test server: port 0, the test database, a data dir in tmp_path."""

    def make(**overrides: Any) -> AuthSettings:
        values: dict[str, Any] = {
            "listen_addr": "127.0.0.1:0",
            "database_url": database_url,
            "data_dir": data_dir,
            "nats_url": nats_url,
            "shutdown_grace_seconds": 1.0,
        }
        values.update(overrides)
        return AuthSettings(**values)

    return make


@dataclass
class RunningAuth:
    app: AuthApp
    port: int
    channel: grpc.aio.Channel
    auth: Any  # AuthServiceAsyncStub
    ext_authz: Any  # AuthorizationAsyncStub


class AuthServers:
    """Starts real auth servers on port 0; whatever is still running stops after the test."""

    def __init__(self) -> None:
        self._running: list[RunningAuth] = []

    async def start(self, settings: AuthSettings) -> RunningAuth:
        app = AuthApp(settings)
        port = await app.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        server = RunningAuth(
            app=app,
            port=port,
            channel=channel,
            auth=auth_pb2_grpc.AuthServiceStub(channel),
            ext_authz=external_auth_pb2_grpc.AuthorizationStub(channel),
        )
        self._running.append(server)
        return server

    async def stop(self, server: RunningAuth) -> None:
        self._running.remove(server)
        await server.channel.close()
        await server.app.stop()

    async def stop_all(self) -> None:
        for server in reversed(list(self._running)):
            await self.stop(server)


@pytest.fixture
async def auth_servers() -> AsyncIterator[AuthServers]:
    servers = AuthServers()
    try:
        yield servers
    finally:
        await servers.stop_all()
