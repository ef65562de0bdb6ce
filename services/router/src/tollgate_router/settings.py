"""Router settings: env prefix ``TOLLGATE_ROUTER_`` (plus the shared ``TOLLGATE_*`` names)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import ClassVar, Literal

from tollgate_common.env_settings import setting
from tollgate_common.settings import CommonSettings


class RouterSettings(CommonSettings):
    env_prefix: ClassVar[str] = "TOLLGATE_ROUTER_"

    listen_addr: str = "127.0.0.1:50062"
    # Empty means the SQLite file `<data dir>/router.db` (the outbox only).
    database_url: str = ""
    migrate_on_start: bool = True
    # A generation's last event waits for its usage fact to be durable (docs/architecture.md,
    # "The fact path"): appended to a fact journal ("auto": in `<data dir>/router-journal` while
    # the database is a SQLite file, beside which a journal is as durable as the table; none
    # with PostgreSQL. "off": never. Else the directory); without one, acknowledged by JetStream
    # within this many seconds, else committed to the outbox table (with one, the relay waits as
    # long before it writes the fact to the table).
    fact_journal: str = "auto"
    fact_ack_timeout_seconds: float = setting(default=0.5, gt=0)
    # Extra catalog entries (same format as the shipped catalog.json); they add or override by id.
    catalog_file: Path | None = setting(default=None, env="TOLLGATE_CATALOG_FILE")
    # Upstream HTTP: connect timeout, idle read timeout, connection pool size.
    upstream_connect_timeout_seconds: float = 10.0
    upstream_read_timeout_seconds: float = 300.0
    upstream_max_connections: int = 1000
    # Streaming: seconds to wait for a provider's first event before failing over to the next
    # candidate; per provider slug as JSON, e.g. TOLLGATE_ROUTER_FIRST_BYTE_TIMEOUTS='{"groq": 5}'.
    first_byte_timeout_seconds: float = setting(default=60.0, gt=0)
    first_byte_timeouts: dict[str, float] = setting(default_factory=dict)
    # Pre-flight reservations at billing (docs/billing.md); false only for a router run without
    # billing. ``billing_unavailable``: what to do when billing cannot be reached.
    billing_addr: str = setting(
        default="127.0.0.1:50063",
        env="TOLLGATE_BILLING_ADDR",
    )
    # Where the teams' stored BYOK credentials are loaded from (docs/byok.md "In the router").
    auth_addr: str = setting(
        default="127.0.0.1:50061",
        env="TOLLGATE_AUTH_ADDR",
    )
    byok_deadline_seconds: float = setting(default=2.0, gt=0)
    # How many teams' credentials are held at most (the least recently loaded go first).
    byok_cache_teams: int = setting(default=10_000, gt=0)
    preflight: bool = True
    preflight_deadline_seconds: float = setting(default=2.0, gt=0)
    billing_unavailable: Literal["last-known", "closed"] = "last-known"
    # Credit leases (docs/billing.md): the USD a router asks billing to hold per team so that
    # generations draw from it without a round trip each ("0": a hold per generation), and how
    # long one lease is drawn from before it is given back.
    credit_lease: Decimal = setting(default=Decimal("1"), ge=0)
    credit_lease_seconds: float = setting(default=30.0, gt=0)
    # Output allowances (docs/billing.md): under money pressure a generation is held for, and
    # limited upstream to, twice the 99th percentile of its model's recent outputs, never fewer
    # output tokens than this ("0": always the whole worst case).
    output_allowance: int = setting(default=4096, ge=0)
    # Idempotency-Key (docs/idempotency.md): how long an answer is kept for repeats, how long a
    # repeat waits for the first request while it still runs (then 409), and how long a running
    # request's claim holds before it counts as abandoned (its router died).
    idempotency_ttl_seconds: float = setting(default=86_400.0, gt=0)
    idempotency_wait_seconds: float = setting(default=10.0, ge=0)
    idempotency_running_seconds: float = setting(default=900.0, gt=0)
    # The Responses API (docs/responses.md): how long a stored response (`store: true`) is kept
    # for retrieval and `previous_response_id`, in days; expired ones are swept.
    response_retention_days: float = setting(default=30.0, gt=0)

    def effective_database_url(self) -> str:
        return self.database_url or self.sqlite_url("router")

    def fact_journal_dir(self) -> Path | None:
        """The fact journal's directory; None for none."""
        if self.fact_journal == "off":
            return None
        if self.fact_journal != "auto":
            return Path(self.fact_journal)
        if not self.effective_database_url().startswith("sqlite"):
            return None
        return (self.data_dir / "router-journal").resolve()
