"""Settings of the billing service (env prefix ``TOLLGATE_BILLING_``)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from tollgate_common.env_settings import setting
from tollgate_common.settings import CommonSettings


class BillingSettings(CommonSettings):
    env_prefix: ClassVar[str] = "TOLLGATE_BILLING_"

    listen_addr: str = "127.0.0.1:50063"
    # Empty means the SQLite file in the data dir; repr=False: a PostgreSQL URL may hold a password.
    database_url: str = setting(default="", repr=False)
    migrate_on_start: bool = True
    # How long a reservation holds money when neither its usage fact nor a release arrives
    # (a router that died mid-generation); longer than the longest generation. Past it, the hold
    # goes only once every usage fact published before then is applied.
    hold_seconds: float = setting(default=900.0, gt=0)
    # How often the expiry sweep looks at the usage consumer's progress and the expired holds.
    hold_sweep_seconds: float = setting(default=5.0, gt=0)
    # PostgreSQL: commit reservations and give-backs without waiting for the WAL flush (~3 ms
    # per commit on a busy disk). A billing crash loses nothing; a crash of PostgreSQL itself
    # may lose the holds of its last moments (docs/billing.md, "Replicas"). Ledger entries
    # always wait for it.
    holds_async_commit: bool = False
    # Credit leases to routers (docs/billing.md): granted only while a team could pay this many
    # worst cases of the asking generation, and at most this share of what it has available.
    lease_min_worst_cases: int = setting(default=4, ge=1)
    lease_share: Decimal = setting(default=Decimal("0.5"), gt=0, le=1)
    # How long a rate-limited request's concurrency slot lives unless its router renews it
    # (every third of this, while the request runs) or gives it back: how long a router that
    # died keeps its requests' slots.
    rate_limit_slot_seconds: float = setting(default=60.0, gt=0)
    # The free tier (docs/billing.md, "The free tier"): unspent free credit is topped up to this
    # many USD at the first request of every period of this many days; 0: no free tier at all.
    free_tier_amount: Decimal = setting(default=Decimal("5.00"), ge=0, decimal_places=2)
    free_tier_days: int = setting(default=30, ge=1)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.database_url:
            self.database_url = self.sqlite_url("billing")
