"""Wiring: settings → engine + outbox, the upstream HTTP client, the channels to auth and
billing → the generation, embedding and credential-test services, the idempotency keys and the
stored responses → servicer, plus the BYOK change follower, the credit-lease sweep and the
sweeps of expired keys and responses, all registered with the service runtime (which starts,
serves and stops them).

NATS is linked in the background: the router serves while it is down (the outbox keeps facts,
in its table: a generation ends only once its fact is durable).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tollgate.auth.v1 import auth_pb2, auth_pb2_grpc
from tollgate.billing.v1 import billing_pb2_grpc
from tollgate.router.v1 import router_pb2_grpc
from tollgate_common.db import create_engine, migrate_in_child_async
from tollgate_common.fact_journal import FactJournal
from tollgate_common.grpc_client import open_channel
from tollgate_common.outbox import Outbox
from tollgate_common.runtime import ServiceApp, ServiceRuntime

from tollgate_router import models
from tollgate_router.catalog.catalog import Catalog, load_catalog
from tollgate_router.credentials.check import CredentialTester, StoredSecret
from tollgate_router.credentials.system import SystemCredentials, load_system_credentials
from tollgate_router.credentials.team import TeamCredentialStore, grpc_loader
from tollgate_router.credit.limits import BillingRateLimits, NoRateLimits, RateLimits
from tollgate_router.credit.preflight import BillingPreflight, NoPreflight, Preflight
from tollgate_router.embeddings.service import EmbeddingService
from tollgate_router.generation.service import GenerationService, Timeouts
from tollgate_router.idempotency.repository import IdempotencyRepository
from tollgate_router.idempotency.service import Idempotency
from tollgate_router.metrics import RouterMetrics
from tollgate_router.providers import build_adapters
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.routing.failover import Failover
from tollgate_router.routing.provider_stats import ProviderStats
from tollgate_router.servicer import RouterServicer
from tollgate_router.settings import RouterSettings
from tollgate_router.stored_responses.repository import StoredResponseRepository
from tollgate_router.stored_responses.service import StoredResponses

if TYPE_CHECKING:
    from tollgate.auth.v1.auth_pb2_grpc import AuthServiceAsyncStub
    from tollgate.billing.v1.billing_pb2_grpc import BillingServiceAsyncStub

log = logging.getLogger(__name__)

SERVICE_NAME = "tollgate.router.v1.RouterService"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Expired idempotency keys are deleted this often (at most; sooner with a shorter TTL).
_SWEEP_SECONDS = 300.0


def upstream_client(settings: RouterSettings) -> HttpClient:
    """The one HTTP client of the process: pooled keep-alive connections to every provider.
    It keeps no cookie: every team's requests share it, and a cookie a provider set in an
    answer to one team (a CDN's visitor id) would go out with the next team's key."""
    return HttpClient(
        max_connections=settings.upstream_max_connections,
        connect_seconds=settings.upstream_connect_timeout_seconds,
        read_seconds=settings.upstream_read_timeout_seconds,
        keepalive_seconds=30,
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


class RouterApp(ServiceApp):
    """The router process. Build it inside the event loop; ``run()`` serves until a signal (it
    migrates its database at start unless ``migrate_on_start`` is off)."""

    def __init__(
        self,
        settings: RouterSettings,
        *,
        catalog: Catalog | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.runtime = runtime = ServiceRuntime("router", settings)
        self.catalog = catalog if catalog is not None else load_catalog(settings.catalog_file)
        self.credentials: SystemCredentials = load_system_credentials(
            sorted(self.catalog.providers()), os.environ if environ is None else environ
        )
        url = settings.effective_database_url()
        if settings.migrate_on_start:
            runtime.on_start(lambda: migrate_in_child_async("router", url, MIGRATIONS))
        engine = runtime.engine(create_engine(url, settings.database_timeouts()))
        journal_dir = settings.fact_journal_dir()
        outbox = runtime.outbox(
            Outbox(
                engine,
                models.outbox,
                publish_timeout=settings.fact_ack_timeout_seconds,
                # With the journal a fact is durable before its relay publishes it: waiting
                # 25 ms lets the facts of several requests go out together (one wake-up of the
                # relay and of the NATS client for all) instead of one by one between requests.
                linger_seconds=0.025,
                journal=FactJournal(journal_dir) if journal_dir is not None else None,
            )
        )
        auth_channel = open_channel(settings.auth_addr, runtime.keys, "router")
        runtime.on_close(auth_channel.close)
        auth_stub = auth_pb2_grpc.AuthServiceStub(auth_channel)
        byok = TeamCredentialStore(
            grpc_loader(auth_stub, settings.byok_deadline_seconds),
            max_teams=settings.byok_cache_teams,
        )
        runtime.follow("byok-changes", byok.follow, byok.close)
        client = upstream_client(settings)
        runtime.on_close(client.close)
        # The one failover engine: chat and embeddings share its view of provider health; the
        # credential test uses its catalog, base URLs and adapters.
        failover = Failover(
            self.catalog,
            self.credentials,
            build_adapters(client),
            stats=ProviderStats(),
            metrics=RouterMetrics(runtime.registry),
            byok=byok,
        )
        billing = self._billing_stub()
        preflight = self._preflight(billing)
        limits = self._rate_limits(billing)
        service = GenerationService(
            failover,
            outbox,
            timeouts=Timeouts(
                settings.first_byte_timeout_seconds, dict(settings.first_byte_timeouts)
            ),
            preflight=preflight,
            limits=limits,
        )
        # Before the outbox flushes: the generations whose callers went away put their facts.
        runtime.on_stop(lambda: service.finish(settings.shutdown_grace_seconds))
        embeddings = EmbeddingService(failover, outbox, preflight=preflight, limits=limits)
        tester = CredentialTester(failover, stored_secret(auth_stub, settings))
        idempotency = Idempotency(
            IdempotencyRepository(engine),
            ttl=settings.idempotency_ttl_seconds,
            wait=settings.idempotency_wait_seconds,
            running=settings.idempotency_running_seconds,
        )
        sweep_every = min(settings.idempotency_ttl_seconds, _SWEEP_SECONDS)
        runtime.task("idempotency-sweep", lambda: idempotency.sweep_forever(sweep_every))
        retention = settings.response_retention_days * 86_400
        stored = StoredResponses(StoredResponseRepository(engine), retention_seconds=retention)
        runtime.task("stored-responses-sweep", lambda: stored.sweep_forever(_SWEEP_SECONDS))
        servicer = RouterServicer(
            service,
            embeddings,
            tester,
            idempotency,
            stored,
            observe=runtime.observe_call,
        )
        runtime.serve(SERVICE_NAME, router_pb2_grpc.add_RouterServiceServicer_to_server, servicer)
        runtime.on_drain(servicer.lanes.drain)
        log.info(
            "catalog %s: %d models; system credentials for %s",
            self.catalog.version,
            len(self.catalog.models),
            ", ".join(sorted(self.credentials.by_provider)) or "no provider",
        )

    def _billing_stub(self) -> BillingServiceAsyncStub | None:
        """One channel to billing (holds and rate limits), or None for a router run without
        billing (``TOLLGATE_ROUTER_PREFLIGHT=false``)."""
        if not self.settings.preflight:
            return None
        channel = open_channel(self.settings.billing_addr, self.runtime.keys, "router")
        self.runtime.on_close(channel.close)
        stub: BillingServiceAsyncStub = billing_pb2_grpc.BillingServiceStub(channel)
        return stub

    def _preflight(self, billing: BillingServiceAsyncStub | None) -> Preflight:
        if billing is None:
            log.warning("pre-flight reservations are off: teams are not held to their credits")
            return NoPreflight()
        preflight = BillingPreflight(
            billing,
            deadline_seconds=self.settings.preflight_deadline_seconds,
            outage=self.settings.billing_unavailable,
            lease=self.settings.credit_lease,
            lease_seconds=self.settings.credit_lease_seconds,
            output_allowance=self.settings.output_allowance,
            instance_id=f"{socket.gethostname()}/{os.getpid()}",
        )
        self.runtime.task("credit-leases", preflight.run)
        return preflight

    def _rate_limits(self, billing: BillingServiceAsyncStub | None) -> RateLimits:
        """Rate limits are counted at billing, so a router without billing has none."""
        if billing is None:
            return NoRateLimits()
        limits = BillingRateLimits(
            billing,
            deadline_seconds=self.settings.preflight_deadline_seconds,
        )
        self.runtime.task("rate-limits", limits.run)
        return limits
