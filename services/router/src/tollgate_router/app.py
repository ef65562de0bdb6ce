"""Wiring of the router process: database + outbox, NATS, the upstream HTTP session, gRPC.

Shutdown (after the gRPC server has drained its streams): stop the outbox relay once what was
put is stored (and published if NATS is up), close the HTTP session, drain NATS, dispose the
engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from tollgate.auth.v1 import auth_pb2, auth_pb2_grpc
from tollgate.billing.v1 import billing_pb2_grpc
from tollgate.router.v1 import router_pb2_grpc
from tollgate_common.bus import Bus
from tollgate_common.db import create_engine, migrate_async
from tollgate_common.grpc_client import open_channel
from tollgate_common.grpc_server import GrpcService
from tollgate_common.outbox import Outbox

from tollgate_router import models
from tollgate_router.catalog.repository import Catalog, load_catalog
from tollgate_router.credentials.check import CredentialTester, StoredSecret
from tollgate_router.credentials.system import SystemCredentials, load_system_credentials
from tollgate_router.credentials.team import TeamCredentialStore, grpc_loader
from tollgate_router.credit.preflight import BillingPreflight, NoPreflight, Preflight
from tollgate_router.embeddings.service import EmbeddingService
from tollgate_router.generation.service import GenerationService, Timeouts
from tollgate_router.metrics import RouterMetrics
from tollgate_router.providers import build_adapters
from tollgate_router.providers.transport import pool_tracing
from tollgate_router.routing.provider_stats import ProviderStats
from tollgate_router.servicer import RouterServicer
from tollgate_router.settings import RouterSettings

if TYPE_CHECKING:
    from tollgate.auth.v1.auth_pb2_grpc import AuthServiceAsyncStub

log = logging.getLogger(__name__)

SERVICE_NAME = "tollgate.router.v1.RouterService"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_RETRY_SECONDS = 2.0


def upstream_session(settings: RouterSettings) -> aiohttp.ClientSession:
    """The one HTTP client of the process: pooled keep-alive connections to every provider."""
    connector = aiohttp.TCPConnector(
        limit=settings.upstream_max_connections,
        limit_per_host=0,
        ttl_dns_cache=300,
        keepalive_timeout=30,
    )
    timeout = aiohttp.ClientTimeout(
        total=None,
        connect=settings.upstream_connect_timeout_seconds,
        sock_read=settings.upstream_read_timeout_seconds,
    )
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, trace_configs=[pool_tracing()]
    )


def stored_secret(stub: AuthServiceAsyncStub, settings: RouterSettings) -> StoredSecret:
    """A team's stored credential for a test, enabled or not, from auth's internal RPC."""

    async def fetch(team_id: str, provider: str) -> Mapping[str, str] | None:
        reply = await stub.GetByokSecret(
            auth_pb2.GetByokSecretRequest(
                team_id=team_id, provider=provider, include_disabled=True
            ),
            timeout=settings.byok_deadline_seconds,
        )
        return dict(reply.credentials) if reply.found else None

    return fetch


class RouterApp:
    def __init__(
        self,
        settings: RouterSettings,
        *,
        catalog: Catalog | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog if catalog is not None else load_catalog(settings.catalog_file)
        self.credentials: SystemCredentials = load_system_credentials(
            sorted(self.catalog.providers()), os.environ if environ is None else environ
        )
        self.bus: Bus | None = None
        self._bus_ready = asyncio.Event()
        self._grpc: GrpcService | None = None

    async def prepare(self) -> GrpcService:
        """Everything but the listening socket (inside the running loop: grpc.aio binds its
        server to the loop it is created in)."""
        if self._grpc is not None:
            return self._grpc
        settings = self.settings
        url = settings.effective_database_url()
        if settings.migrate_on_start:
            await migrate_async(url, MIGRATIONS)
        grpc_service = GrpcService(
            "router",
            settings.listen_addr,
            settings.shutdown_grace_seconds,
            metrics_addr=settings.metrics_addr,
        )
        self._grpc = grpc_service
        engine = create_engine(url)
        grpc_service.on_shutdown(engine.dispose)

        auth_channel = open_channel(settings.auth_addr)
        grpc_service.on_shutdown(auth_channel.close)
        auth_stub = auth_pb2_grpc.AuthServiceStub(auth_channel)
        byok = TeamCredentialStore(
            grpc_loader(auth_stub, settings.byok_deadline_seconds),
            max_teams=settings.byok_cache_teams,
        )
        outbox = Outbox(engine, models.outbox)
        connecting = asyncio.create_task(self._connect_bus(outbox), name="router-nats-connect")
        grpc_service.on_shutdown(lambda: self._close_bus(connecting))
        following = asyncio.create_task(self._follow_byok(byok), name="router-byok-changes")
        grpc_service.on_shutdown(lambda: self._stop_following(byok, following))
        session = upstream_session(settings)
        grpc_service.on_shutdown(session.close)
        relay = asyncio.create_task(outbox.run(), name="router-outbox-relay")
        grpc_service.on_shutdown(lambda: self._close_outbox(outbox, relay))

        adapters, stats = build_adapters(session), ProviderStats()

        metrics = RouterMetrics(grpc_service.registry)
        preflight = self._preflight(grpc_service)
        service = GenerationService(
            self.catalog,
            self.credentials,
            adapters,
            outbox,
            stats=stats,
            timeouts=Timeouts(
                settings.first_byte_timeout_seconds, dict(settings.first_byte_timeouts)
            ),
            metrics=metrics,
            preflight=preflight,
            byok=byok,
        )
        embeddings = EmbeddingService(
            self.catalog,
            self.credentials,
            adapters,
            outbox,
            stats=stats,
            metrics=metrics,
            preflight=preflight,
            byok=byok,
        )
        tester = CredentialTester(
            self.catalog, self.credentials, adapters, stored_secret(auth_stub, settings)
        )
        router_pb2_grpc.add_RouterServiceServicer_to_server(
            RouterServicer(service, embeddings, tester), grpc_service.server
        )
        grpc_service.add_service_name(SERVICE_NAME)
        log.info(
            "catalog %s: %d models; system credentials for %s",
            self.catalog.version,
            len(self.catalog.models),
            ", ".join(sorted(self.credentials.by_provider)) or "no provider",
        )
        return grpc_service

    def _preflight(self, grpc_service: GrpcService) -> Preflight:
        if not self.settings.preflight:
            log.warning("pre-flight reservations are off: teams are not held to their credits")
            return NoPreflight()
        channel = open_channel(self.settings.billing_addr)
        grpc_service.on_shutdown(channel.close)
        preflight = BillingPreflight(
            billing_pb2_grpc.BillingServiceStub(channel),
            deadline_seconds=self.settings.preflight_deadline_seconds,
            outage=self.settings.billing_unavailable,
            lease=self.settings.credit_lease,
            lease_seconds=self.settings.credit_lease_seconds,
        )
        sweeping = asyncio.create_task(preflight.run(), name="router-credit-leases")
        grpc_service.on_shutdown(lambda: _cancel(sweeping))
        return preflight

    async def start(self) -> int:
        """Prepare and listen; returns the port. On failure, what was built is released."""
        grpc_service = await self.prepare()
        try:
            return await grpc_service.start()
        except BaseException:
            await grpc_service.shutdown()
            raise

    async def stop(self) -> None:
        if self._grpc is not None:
            await self._grpc.shutdown()

    async def run(self) -> None:
        """Serve until SIGINT/SIGTERM, then shut down gracefully."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        await stop.wait()
        await self.stop()

    async def _connect_bus(self, outbox: Outbox) -> None:
        """Connect to NATS in the background: the router serves (and the outbox keeps facts)
        while NATS is down."""
        url = self.settings.nats_url
        while self.bus is None:
            try:
                self.bus = await Bus.connect(url, "tollgate-router")
            except Exception as exc:
                log.warning("NATS at %s not reachable (%s); retrying", url, type(exc).__name__)
                await asyncio.sleep(_RETRY_SECONDS)
        while True:
            try:
                await self.bus.ensure_streams(replicas=self.settings.nats_stream_replicas)
                break
            except Exception as exc:
                log.warning("cannot ensure JetStream streams (%s); retrying", type(exc).__name__)
                await asyncio.sleep(_RETRY_SECONDS)
        outbox.bus = self.bus
        self._bus_ready.set()

    async def _follow_byok(self, byok: TeamCredentialStore) -> None:
        """Follow BYOK credential changes once NATS is connected."""
        await self._bus_ready.wait()
        assert self.bus is not None
        await byok.follow(self.bus)

    async def _stop_following(self, byok: TeamCredentialStore, task: asyncio.Task[None]) -> None:
        byok.close()
        if not self._bus_ready.is_set():
            task.cancel()  # still waiting for NATS
        try:
            await asyncio.wait_for(task, self.settings.shutdown_grace_seconds)
        except (TimeoutError, asyncio.CancelledError):
            log.warning("stopped following BYOK changes without unsubscribing")
        except Exception as exc:  # NATS went away under it: nothing left to follow
            log.warning("following BYOK changes ended with %s", type(exc).__name__)

    async def _close_outbox(self, outbox: Outbox, relay: asyncio.Task[None]) -> None:
        await outbox.close()
        try:
            await asyncio.wait_for(relay, self.settings.shutdown_grace_seconds)
        except TimeoutError:
            log.warning("outbox relay did not finish in time; stored facts go out on next start")

    async def _close_bus(self, connecting: asyncio.Task[None]) -> None:
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await connecting
        if self.bus is None:
            return
        try:
            await asyncio.wait_for(self.bus.close(), self.settings.shutdown_grace_seconds)
        except Exception as exc:  # reconnecting, or too slow: nothing left to flush anyway
            log.warning("NATS did not drain (%s); closing", type(exc).__name__)
            with contextlib.suppress(Exception):
                await self.bus.nc.close()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
