"""Wiring: engine → repositories → services → servicer, the usage consumer and the outbox of
activity facts, all registered with the service runtime (which starts, serves and stops them)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tollgate.billing.v1 import billing_pb2_grpc
from tollgate_common.db import create_engine
from tollgate_common.fact_consumer import USAGE_FACTS
from tollgate_common.outbox import Outbox
from tollgate_common.runtime import ServiceApp, ServiceRuntime

from tollgate_billing.budgets.repository import BudgetRepository
from tollgate_billing.budgets.service import BudgetService
from tollgate_billing.domain import Clock, utc_now
from tollgate_billing.generations.consumer import USAGE_CONSUMER, UsageConsumer
from tollgate_billing.generations.repository import GenerationRepository
from tollgate_billing.generations.service import GenerationService
from tollgate_billing.ledger.account import FreeTier
from tollgate_billing.ledger.expiry import HoldExpiry
from tollgate_billing.ledger.repository import LedgerRepository
from tollgate_billing.ledger.service import CreditsService, HoldPolicy, LedgerGenerationStore
from tollgate_billing.ledger.view import LeasePolicy
from tollgate_billing.limits.repository import RateLimitRepository
from tollgate_billing.limits.service import RateLimitService
from tollgate_billing.models import outbox
from tollgate_billing.report.repository import ReportRepository
from tollgate_billing.report.service import SpendReports
from tollgate_billing.servicer import SERVICE_NAME, BillingServicer
from tollgate_billing.settings import BillingSettings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class BillingApp(ServiceApp):
    """The billing process. Build it inside the event loop; ``run()`` serves until a signal.

    It consumes usage facts, so it links NATS before it serves."""

    def __init__(self, settings: BillingSettings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.runtime = runtime = ServiceRuntime("billing", settings, link_before_serving=True)
        self.engine = runtime.engine(
            create_engine(settings.database_url, settings.database_timeouts())
        )
        self.outbox = runtime.outbox(Outbox(self.engine, outbox))
        holds = HoldPolicy(
            settings.hold_seconds,
            LeasePolicy(settings.lease_min_worst_cases, settings.lease_share),
        )
        budgets = BudgetRepository(self.engine)
        free_tier = FreeTier(settings.free_tier_amount, timedelta(days=settings.free_tier_days))
        ledger = LedgerRepository(
            self.engine, free_tier, hold_commits_async=settings.holds_async_commit
        )
        self.credits = CreditsService(ledger, self.outbox, clock, budgets=budgets, holds=holds)
        self.budgets = BudgetService(budgets, self.credits, self.outbox, clock)
        self.limits = RateLimitService(
            RateLimitRepository(self.engine, settings.rate_limit_slot_seconds), self.outbox, clock
        )
        generations = GenerationRepository(self.engine)
        self.service = GenerationService(LedgerGenerationStore(self.credits, generations))
        self.consumer = UsageConsumer(self.service)
        runtime.consume(self.consumer)
        self.expiry = HoldExpiry(
            self.credits,
            clock,
            stream=USAGE_FACTS.stream,
            durable=USAGE_CONSUMER,
            interval_seconds=settings.hold_sweep_seconds,
        )
        runtime.follow("hold-expiry", self.expiry.run, self.expiry.close)
        runtime.serve(
            SERVICE_NAME,
            billing_pb2_grpc.add_BillingServiceServicer_to_server,
            BillingServicer(
                self.service,
                self.credits,
                SpendReports(ReportRepository(self.engine)),
                self.budgets,
                self.limits,
            ),
        )
