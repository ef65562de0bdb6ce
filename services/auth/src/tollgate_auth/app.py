"""Wiring: settings → engine → repositories → services → servicers, the outbox of activity
facts and revocations, the revocation listener and the periodic refreshers, all registered with
the service runtime (which starts, serves and stops them).

NATS is linked in the background: auth serves while it is down (the outbox keeps facts, the
listener's absence shortens how long cached keys are trusted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from tollgate.auth.v1 import auth_pb2_grpc
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2_grpc
from tollgate_common.db import create_engine
from tollgate_common.outbox import Outbox
from tollgate_common.runtime import ServiceApp, ServiceRuntime

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
from tollgate_auth.operators.repository import OperatorRepository
from tollgate_auth.operators.service import OperatorAdmin
from tollgate_auth.settings import AuthSettings
from tollgate_auth.tenancy.project_check import ProjectCheck
from tollgate_auth.tenancy.repository import TenancyRepository
from tollgate_auth.tenancy.service import AdminService

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"


def load_vault(settings: AuthSettings) -> Vault:
    """The vault of BYOK secrets, with the configured (or generated) KEKs."""
    keks = load_keks(
        settings.byok_kek.get_secret_value() if settings.byok_kek else None,
        settings.byok_kek_file,
        settings.previous_keks(),
        settings.byok_kek_path,
    )
    return Vault(keks)


class AuthApp(ServiceApp):
    """The auth process. Build it inside the event loop (the database migrated already);
    ``run()`` serves until a signal. At start it loads the signing keys and the trusted issuers
    and runs the bootstrap, before it serves."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.runtime = runtime = ServiceRuntime("auth", settings)
        pepper = load_pepper(settings.key_pepper, settings.key_pepper_file, settings.pepper_path)
        vault = load_vault(settings)
        self.engine = engine = runtime.engine(
            create_engine(settings.database_url, settings.database_timeouts())
        )
        self.cache = KeyCache(
            ttl=settings.cache_ttl_seconds,
            negative_ttl=settings.negative_cache_ttl_seconds,
            max_entries=settings.cache_max_entries,
        )
        self.listener = RevocationListener(self.cache, settings.offline_cache_max_age_seconds)
        runtime.follow("revocations", self.listener.run, self.listener.close)
        hasher = KeyHasher(pepper)
        self.repository = AuthRepository(engine)
        tenancy = TenancyRepository(engine)
        self.signing_keys = SigningKeys(engine, vault)
        runtime.on_start(self.signing_keys.load)
        runtime.task("oidc-key-refresher", self.signing_keys.run_refresher)
        projects = ProjectCheck(tenancy)
        trusted = TrustedIssuers(
            IssuersRepository(engine),
            projects,
            allow_insecure_jwks=settings.oidc_allow_insecure_jwks,
        )
        runtime.on_start(trusted.refresh)
        runtime.task("issuers-refresher", trusted.run_refresher)
        runtime.on_stop(trusted.close)
        self.oidc = OidcTokens(
            self.signing_keys,
            settings.oidc_issuer,
            tenancy,
            TeamAccess(self.repository),
            projects,
            trusted,
        )
        self.service = AuthService(
            self.repository,
            hasher,
            self.cache,
            LastUsedTracker(),
            max_cache_age=self.listener.max_age,
            oidc=self.oidc.verify,
        )
        runtime.on_start(self._bootstrap)
        runtime.task(
            "last-used-flusher",
            lambda: self.service.run_last_used_flusher(settings.last_used_flush_seconds),
        )
        runtime.on_stop(self._flush_last_used)
        events = AuthEvents(runtime.outbox(Outbox(engine, models.outbox)))
        self.admin = AdminService(
            tenancy,
            self.repository,
            hasher,
            self.cache,
            events,
            free_tiers_per_user=settings.free_tiers_per_user,
        )
        operators = OperatorAdmin(
            OperatorRepository(engine), TeamAccess(self.repository), self.cache, events
        )
        byok = ByokService(ByokRepository(engine), vault, TeamAccess(self.repository), events)
        issuers = IssuerAdmin(
            IssuersRepository(engine),
            trusted,
            TeamAccess(self.repository),
            events,
            settings.oidc_issuer,
        )
        runtime.serve(
            servicer.SERVICE_NAME,
            auth_pb2_grpc.add_AuthServiceServicer_to_server,
            servicer.AuthServicer(self.service, self.admin, byok, self.oidc, issuers, operators),
        )
        runtime.serve(
            ext_authz.SERVICE_NAME,
            external_auth_pb2_grpc.add_AuthorizationServicer_to_server,
            ext_authz.AuthorizationServicer(self.service),
        )

    async def _bootstrap(self) -> None:
        key = self.settings.bootstrap_api_key
        await self.service.bootstrap(
            key.get_secret_value() if key else None, self.settings.bootstrap_key_path
        )

    async def _flush_last_used(self) -> None:
        await self.service.flush_last_used()
