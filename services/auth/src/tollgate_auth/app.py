"""Wiring: settings → engine → repository → service → servicers on one gRPC server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate.auth.v1 import auth_pb2_grpc
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2_grpc
from tollgate_common.db import create_engine
from tollgate_common.grpc_server import GrpcService

from tollgate_auth import ext_authz, servicer
from tollgate_auth.cache import KeyCache, LastUsedTracker
from tollgate_auth.keys import KeyHasher, load_pepper
from tollgate_auth.repository import AuthRepository
from tollgate_auth.service import AuthService
from tollgate_auth.settings import AuthSettings

log = logging.getLogger(__name__)

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class AuthApp:
    """A built auth process: ``await app.grpc.run()`` serves until SIGINT/SIGTERM.

    Tests use ``await app.grpc.start()`` (returns the port) and ``await app.grpc.shutdown()``,
    which also stops the background task and disposes the engine.
    """

    settings: AuthSettings
    engine: AsyncEngine
    repository: AuthRepository
    service: AuthService
    cache: KeyCache
    grpc: GrpcService


async def build_app(settings: AuthSettings) -> AuthApp:
    """Build everything and run the bootstrap; the database must be migrated already."""
    pepper = await asyncio.to_thread(
        load_pepper, settings.key_pepper, settings.key_pepper_file, settings.pepper_path
    )
    engine = create_engine(settings.database_url)
    try:
        repository = AuthRepository(engine)
        cache = KeyCache(
            ttl=settings.cache_ttl_seconds,
            negative_ttl=settings.negative_cache_ttl_seconds,
            max_entries=settings.cache_max_entries,
        )
        service = AuthService(repository, KeyHasher(pepper), cache, LastUsedTracker())
        bootstrap_key = settings.bootstrap_api_key
        await service.bootstrap(
            bootstrap_key.get_secret_value() if bootstrap_key else None,
            settings.bootstrap_key_path,
        )
    except BaseException:
        await engine.dispose()
        raise

    server = GrpcService(
        "auth",
        settings.listen_addr,
        settings.shutdown_grace_seconds,
        metrics_addr=settings.metrics_addr,
    )
    auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer.AuthServicer(service), server.server)
    external_auth_pb2_grpc.add_AuthorizationServicer_to_server(
        ext_authz.AuthorizationServicer(service), server.server
    )
    server.add_service_name(servicer.SERVICE_NAME)
    server.add_service_name(ext_authz.SERVICE_NAME)

    flusher = asyncio.create_task(
        service.run_last_used_flusher(settings.last_used_flush_seconds),
        name="auth-last-used-flusher",
    )

    async def dispose_engine() -> None:
        await engine.dispose()

    async def stop_flusher() -> None:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        await service.flush_last_used()

    # Cleanups run last-registered first: stop the flusher (and flush), then dispose.
    server.on_shutdown(dispose_engine)
    server.on_shutdown(stop_flusher)
    return AuthApp(settings, engine, repository, service, cache, server)


async def serve(settings: AuthSettings) -> None:
    """Build the app and serve until SIGINT/SIGTERM, then shut down gracefully."""
    app = await build_app(settings)
    try:
        await app.grpc.run()
    except BaseException:
        # run() shuts down by itself once serving; this covers a failed start.
        await app.grpc.shutdown()
        raise
