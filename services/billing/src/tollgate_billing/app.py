"""Wiring: engine → repositories → services → servicer on the gRPC server, plus the usage
consumer and the outbox of activity facts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from tollgate.billing.v1 import billing_pb2_grpc
from tollgate_common.bus import Bus
from tollgate_common.db import create_engine
from tollgate_common.grpc_server import GrpcService
from tollgate_common.outbox import Outbox

from tollgate_billing.budget_repository import BudgetRepository
from tollgate_billing.budget_service import BudgetService
from tollgate_billing.consumer import UsageConsumer
from tollgate_billing.credits import Clock, CreditsService, LedgerGenerationStore, utc_now
from tollgate_billing.ledger_repository import LedgerRepository
from tollgate_billing.models import outbox
from tollgate_billing.report import SpendReports
from tollgate_billing.repository import GenerationRepository
from tollgate_billing.service import BillingService
from tollgate_billing.servicer import SERVICE_NAME, BillingServicer
from tollgate_billing.settings import BillingSettings
from tollgate_billing.view import BalanceView, LeasePolicy

log = logging.getLogger(__name__)

BUS_CLIENT_NAME = "tollgate-billing"
OUTBOX_CLIENT_NAME = "tollgate-billing-outbox"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_RETRY_SECONDS = 2.0


class BillingApp:
    """The billing process. Build it inside the event loop; ``run()`` serves until a signal."""

    def __init__(self, settings: BillingSettings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.engine = create_engine(settings.database_url)
        self.outbox = Outbox(self.engine, outbox)
        self.view = BalanceView(
            settings.hold_seconds,
            leases=LeasePolicy(settings.lease_min_worst_cases, settings.lease_share),
        )
        budgets = BudgetRepository(self.engine)
        self.credits = CreditsService(
            LedgerRepository(self.engine), self.view, self.outbox, clock, budgets=budgets
        )
        self.budgets = BudgetService(budgets, self.credits, self.outbox, clock)
        generations = GenerationRepository(self.engine)
        self.service = BillingService(LedgerGenerationStore(self.credits, generations))
        self.consumer = UsageConsumer(self.service)
        self.grpc = GrpcService(
            "billing",
            settings.listen_addr,
            settings.shutdown_grace_seconds,
            metrics_addr=settings.metrics_addr,
        )
        billing_pb2_grpc.add_BillingServiceServicer_to_server(
            BillingServicer(self.service, self.credits, SpendReports(generations), self.budgets),
            self.grpc.server,
        )
        self.grpc.add_service_name(SERVICE_NAME)
        # Cleanups run last-registered first: stop consuming → flush the outbox → drain NATS →
        # dispose the engine.
        self.grpc.on_shutdown(self.engine.dispose)
        self._outbox_bus: Bus | None = None

    async def _start_background(self) -> None:
        connecting = asyncio.create_task(self._connect_outbox(), name="billing-outbox-connect")
        self.grpc.on_shutdown(lambda: self._close_outbox_bus(connecting))
        relay = asyncio.create_task(self.outbox.run(), name="billing-outbox-relay")
        self.grpc.on_shutdown(lambda: self._close_outbox(relay))
        await self.consumer.attach(
            self.grpc,
            self.settings.nats_url,
            BUS_CLIENT_NAME,
            stream_replicas=self.settings.nats_stream_replicas,
        )

    async def start(self) -> int:
        """Connect the bus, start consuming and serving; returns the gRPC port."""
        await self._start_background()
        try:
            return await self.grpc.start()
        except Exception:
            await self.grpc.shutdown()  # e.g. cannot listen: stop consuming, close again
            raise

    async def stop(self) -> None:
        await self.grpc.shutdown()

    async def run(self) -> None:
        """Serve until SIGINT/SIGTERM, then shut down gracefully."""
        await self._start_background()
        try:
            await self.grpc.run()
        except Exception:
            await self.grpc.shutdown()
            raise

    async def _connect_outbox(self) -> None:
        """The outbox's own connection, made in the background: facts wait in the outbox (and
        its table) while NATS is down."""
        while self._outbox_bus is None:
            try:
                self._outbox_bus = await Bus.connect(self.settings.nats_url, OUTBOX_CLIENT_NAME)
            except Exception as exc:
                log.warning("NATS not reachable for the outbox (%s); retrying", type(exc).__name__)
                await asyncio.sleep(_RETRY_SECONDS)
        self.outbox.bus = self._outbox_bus

    async def _close_outbox(self, relay: asyncio.Task[None]) -> None:
        await self.outbox.close()
        try:
            await asyncio.wait_for(relay, self.settings.shutdown_grace_seconds)
        except TimeoutError:
            log.warning("outbox relay did not finish in time; stored facts go out on next start")

    async def _close_outbox_bus(self, connecting: asyncio.Task[None]) -> None:
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await connecting
        if self._outbox_bus is not None:
            try:
                await asyncio.wait_for(
                    self._outbox_bus.close(), self.settings.shutdown_grace_seconds
                )
            except Exception as exc:
                log.warning("NATS did not drain (%s); closing", type(exc).__name__)
                with contextlib.suppress(Exception):
                    await self._outbox_bus.nc.close()
