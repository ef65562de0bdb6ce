"""Wiring: settings → engine → repositories → services → servicers on one gRPC server, plus
the NATS side: the outbox relay (activity facts, revocations) and the revocation listener.

NATS is connected in the background: auth serves while it is down (the outbox keeps facts,
the listener's absence shortens how long cached keys are trusted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate.auth.v1 import auth_pb2_grpc
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2_grpc
from tollgate_common.bus import Bus
from tollgate_common.db import create_engine
from tollgate_common.grpc_server import GrpcService
from tollgate_common.outbox import Outbox

from tollgate_auth import ext_authz, models, servicer
from tollgate_auth.access.service import TeamAccess
from tollgate_auth.byok.repository import ByokRepository
from tollgate_auth.byok.service import ByokService
from tollgate_auth.byok.vault import Vault, load_keks
from tollgate_auth.events import AuthEvents
from tollgate_auth.issuers.repository import IssuersRepository
from tollgate_auth.issuers.service import IssuerAdmin
from tollgate_auth.issuers.tokens import TrustedIssuers
from tollgate_auth.keys.cache import KeyCache, LastUsedTracker
from tollgate_auth.keys.hashing import KeyHasher, load_pepper
from tollgate_auth.keys.repository import AuthRepository
from tollgate_auth.keys.revocations import RevocationListener
from tollgate_auth.keys.service import AuthService
from tollgate_auth.oidc.service import OidcTokens
from tollgate_auth.oidc.signing_keys import SigningKeys
from tollgate_auth.settings import AuthSettings
from tollgate_auth.tenancy.project_check import ProjectCheck
from tollgate_auth.tenancy.repository import TenancyRepository
from tollgate_auth.tenancy.service import AdminService

log = logging.getLogger(__name__)

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
_RETRY_SECONDS: Final = 1.0


@dataclass
class BusLink:
    """The process's NATS connection once there is one, and the tasks that use it."""

    settings: AuthSettings
    outbox: Outbox
    listener: RevocationListener
    bus: Bus | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def connect(self) -> None:
        url = self.settings.nats_url
        while self.bus is None:
            try:
                self.bus = await Bus.connect(url, "tollgate-auth")
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
        self.outbox.bus = self.bus
        await self.listener.run(self.bus)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.bus is None:
            return
        try:
            await asyncio.wait_for(self.bus.close(), self.settings.shutdown_grace_seconds)
        except Exception as exc:
            log.warning("NATS did not drain (%s); closing", type(exc).__name__)
            with contextlib.suppress(Exception):
                await self.bus.nc.close()


@dataclass(frozen=True)
class AuthApp:
    """A built auth process: ``await app.grpc.run()`` serves until SIGINT/SIGTERM.

    Tests use ``await app.grpc.start()`` (returns the port) and ``await app.grpc.shutdown()``,
    which also stops the background tasks and disposes the engine.
    """

    settings: AuthSettings
    engine: AsyncEngine
    repository: AuthRepository
    service: AuthService
    admin: AdminService
    oidc: OidcTokens
    signing_keys: SigningKeys
    cache: KeyCache
    listener: RevocationListener
    grpc: GrpcService


async def _vault(settings: AuthSettings) -> Vault:
    keks = await asyncio.to_thread(
        load_keks,
        settings.byok_kek.get_secret_value() if settings.byok_kek else None,
        settings.byok_kek_file,
        settings.previous_keks(),
        settings.byok_kek_path,
    )
    return Vault(keks)


async def build_app(settings: AuthSettings) -> AuthApp:
    """Build everything and run the bootstrap; the database must be migrated already."""
    pepper = await asyncio.to_thread(
        load_pepper, settings.key_pepper, settings.key_pepper_file, settings.pepper_path
    )
    vault = await _vault(settings)
    engine = create_engine(settings.database_url)
    cache = KeyCache(
        ttl=settings.cache_ttl_seconds,
        negative_ttl=settings.negative_cache_ttl_seconds,
        max_entries=settings.cache_max_entries,
    )
    listener = RevocationListener(cache, settings.offline_cache_max_age_seconds)
    hasher = KeyHasher(pepper)
    try:
        repository = AuthRepository(engine)
        tenancy = TenancyRepository(engine)
        signing_keys = SigningKeys(engine, vault)
        await signing_keys.load()
        projects = ProjectCheck(tenancy)
        trusted = TrustedIssuers(
            IssuersRepository(engine),
            projects,
            allow_insecure_jwks=settings.oidc_allow_insecure_jwks,
        )
        await trusted.refresh()
        oidc = OidcTokens(
            signing_keys,
            settings.oidc_issuer,
            tenancy,
            TeamAccess(repository),
            projects,
            trusted,
        )
        service = AuthService(
            repository,
            hasher,
            cache,
            LastUsedTracker(),
            max_cache_age=listener.max_age,
            oidc=oidc.verify,
        )
        bootstrap_key = settings.bootstrap_api_key
        await service.bootstrap(
            bootstrap_key.get_secret_value() if bootstrap_key else None,
            settings.bootstrap_key_path,
        )
    except BaseException:
        await engine.dispose()
        raise

    outbox = Outbox(engine, models.outbox)
    events = AuthEvents(outbox)
    admin = AdminService(tenancy, repository, hasher, cache, events)
    byok = ByokService(ByokRepository(engine), vault, TeamAccess(repository), events)
    issuers = IssuerAdmin(
        IssuersRepository(engine), trusted, TeamAccess(repository), events, settings.oidc_issuer
    )
    server = GrpcService(
        "auth",
        settings.listen_addr,
        settings.shutdown_grace_seconds,
        metrics_addr=settings.metrics_addr,
    )
    auth_pb2_grpc.add_AuthServiceServicer_to_server(
        servicer.AuthServicer(service, admin, byok, oidc, issuers), server.server
    )
    external_auth_pb2_grpc.add_AuthorizationServicer_to_server(
        ext_authz.AuthorizationServicer(service), server.server
    )
    server.add_service_name(servicer.SERVICE_NAME)
    server.add_service_name(ext_authz.SERVICE_NAME)

    flusher = asyncio.create_task(
        service.run_last_used_flusher(settings.last_used_flush_seconds),
        name="auth-last-used-flusher",
    )
    relay = asyncio.create_task(outbox.run(), name="auth-outbox-relay")
    key_refresher = asyncio.create_task(
        signing_keys.run_refresher(), name="auth-oidc-key-refresher"
    )
    issuer_refresher = asyncio.create_task(trusted.run_refresher(), name="auth-issuers-refresher")
    link = BusLink(settings, outbox, listener)
    link.tasks.append(asyncio.create_task(link.connect(), name="auth-nats"))

    async def dispose_engine() -> None:
        await engine.dispose()

    async def stop_flusher() -> None:
        for task in (key_refresher, issuer_refresher):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await trusted.close()
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        await service.flush_last_used()

    async def stop_relay() -> None:
        await outbox.close()
        try:
            await asyncio.wait_for(relay, settings.shutdown_grace_seconds)
        except TimeoutError:
            log.warning("outbox relay did not finish in time; stored facts go out on next start")

    # Cleanups run last-registered first: flush last uses, publish or store the outbox, drain
    # NATS, then dispose the engine.
    server.on_shutdown(dispose_engine)
    server.on_shutdown(link.close)
    server.on_shutdown(stop_relay)
    server.on_shutdown(stop_flusher)
    return AuthApp(
        settings, engine, repository, service, admin, oidc, signing_keys, cache, listener, server
    )


async def serve(settings: AuthSettings) -> None:
    """Build the app and serve until SIGINT/SIGTERM, then shut down gracefully."""
    app = await build_app(settings)
    try:
        await app.grpc.run()
    except BaseException:
        # run() shuts down by itself once serving; this covers a failed start.
        await app.grpc.shutdown()
        raise


async def rotate_oidc_key(settings: AuthSettings) -> None:
    """Add a new OIDC signing key and retire the others (they verify until their tokens expire)."""
    vault = await _vault(settings)
    engine = create_engine(settings.database_url)
    try:
        kid = await SigningKeys(engine, vault).add(retire_others=True)
        log.info("new OIDC signing key %s; running replicas pick it up within a minute", kid)
    finally:
        await engine.dispose()
