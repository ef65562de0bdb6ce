"""Billing's tables: generation records, the ledger and balances, the consumer inbox and the
outbox of activity facts."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    text,
)
from tollgate_common.db_types import Money, UtcDateTime
from tollgate_common.inbox import inbox_table
from tollgate_common.outbox import outbox_table
from tollgate_common.usage_record import UsageTable, usage_column

# Column sizes; the service rejects longer values before they reach the database.
ID_LENGTH = 100
NAME_LENGTH = 200
SHORT_LENGTH = 32
KEY_LENGTH = 200

metadata = MetaData()

# A generation's row: its usage fact (the ``usage`` column) and the values billing selects by,
# groups by or sums (docs/billing.md, "The generation record"). Every column is named as the
# fact's field, but ``id`` (the generation id); :data:`GENERATION_ROWS` maps fact ⇄ row.
generations = Table(
    "generations",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("team_id", String(ID_LENGTH), nullable=False),
    # Budgets count a project's and a key's spend.
    Column("project_id", String(ID_LENGTH), nullable=False),
    Column("key_id", String(ID_LENGTH), nullable=False),
    # The spend report's filters and groups (providerOptions.gateway.user is ``end_user``; its
    # tags a JSON array of strings) and its money sums.
    Column("model", String(NAME_LENGTH), nullable=False),
    Column("provider", String(NAME_LENGTH), nullable=False),
    Column("credential_type", String(SHORT_LENGTH), nullable=False),
    Column("end_user", String(NAME_LENGTH), nullable=False, server_default=""),
    Column("tags", JSON, nullable=False, server_default=text("'[]'")),
    Column("cost", Money, nullable=False),
    Column("market_cost", Money, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    usage_column(),
    Index("ix_generations_team_id", "team_id"),
    # The spend report reads a team's generations by time.
    Index("ix_generations_team_id_created_at", "team_id", "created_at"),
)
GENERATION_ROWS = UsageTable(generations, {"id": "generation_id"})

# Append-only: one row per credit or debit of a team; ``amount`` is signed (+ credit, - debit).
# The sum of a team's entries equals ``balances.balance`` exactly (both change in one transaction).
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("team_id", String(ID_LENGTH), nullable=False),
    Column("kind", String(SHORT_LENGTH), nullable=False),
    Column("amount", Money, nullable=False),
    Column("idempotency_key", String(KEY_LENGTH), nullable=False),
    Column("actor_type", String(SHORT_LENGTH), nullable=False),
    Column("actor_id", String(ID_LENGTH), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("team_id", "idempotency_key", name="uq_ledger_entries_team_key"),
)

# One row per team: the ledger's running totals and the free-tier state.
balances = Table(
    "balances",
    metadata,
    Column("team_id", String(ID_LENGTH), primary_key=True),
    Column("balance", Money, nullable=False),
    Column("total_used", Money, nullable=False),
    # The part of ``balance`` that is unspent free credit (topped up to $5 each period).
    Column("free_balance", Money, nullable=False),
    Column("purchased", Boolean, nullable=False),
    # The team's first request: free periods are 30 days from it. Null until then.
    Column("free_anchor", UtcDateTime, nullable=True),
    # The last free period granted (0 = the first); -1 before the first grant.
    Column("free_period", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # What the team's live holds hold in all (the sum of their ``held``; not part of ``balance``):
    # written with them, so a reservation reads one row, not every hold.
    Column("held", Money, nullable=False, server_default="0"),
)

# A cap per team, project or API key and UTC day or month (docs/billing.md, Budgets).
budgets = Table(
    "budgets",
    metadata,
    Column("team_id", String(ID_LENGTH), nullable=False),
    Column("scope", String(SHORT_LENGTH), nullable=False),
    # The team id for the team scope, else a project or an API key id of the team.
    Column("scope_id", String(ID_LENGTH), nullable=False),
    Column("amount", Money, nullable=False),
    Column("period", String(SHORT_LENGTH), nullable=False),
    Column("hard", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("team_id", "scope", "scope_id", name="pk_budgets"),
)

# A team's holds (docs/billing.md, "Pre-flight reservations"): each one a Reserve decided, with
# what its usage facts have debited so far. ``state`` is ``live`` while it holds money;
# ``unsettled`` once it expired without its router giving it back (kept for the operator: its
# generations' facts may never come). A hold settled or given back in full is deleted. Every
# write to a team's holds locks its balance row first, so a Reserve sees them all.
holds = Table(
    "holds",
    metadata,
    Column("team_id", String(ID_LENGTH), nullable=False),
    Column("hold_id", String(ID_LENGTH), nullable=False),
    Column("project_id", String(ID_LENGTH), nullable=False),
    Column("key_id", String(ID_LENGTH), nullable=False),
    # What the Reserve held, and the output tokens it paid for (a repeat answers the same).
    Column("reserved", Money, nullable=False),
    Column("max_output_tokens", Integer, nullable=False),
    # The output tokens each generation drawn from it may send (0: its own limit; migration 0007).
    Column("output_allowance", Integer, nullable=False, server_default=text("0")),
    # Still held: ``reserved`` (or, once returned, what the router spent) less ``debited``.
    Column("held", Money, nullable=False),
    Column("debited", Money, nullable=False),
    Column("returned", Boolean, nullable=False),
    Column("state", String(SHORT_LENGTH), nullable=False),
    # The router process that asked ("" when it did not say).
    Column("instance_id", String(NAME_LENGTH), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("expired_at", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("team_id", "hold_id", name="pk_holds"),
    # The expiry sweep reads live holds by time; the listing reads a state's holds.
    Index("ix_holds_state_expires_at", "state", "expires_at"),
)

# A rate limit per team, project or API key (docs/billing.md, Rate limits), with the counts of
# its current one-minute window: admissions lock the row, so the counts are exact across
# billing replicas sharing one database.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("team_id", String(ID_LENGTH), nullable=False),
    Column("scope", String(SHORT_LENGTH), nullable=False),
    Column("scope_id", String(ID_LENGTH), nullable=False),
    # 0: that dimension is not limited.
    Column("requests_per_minute", BigInteger, nullable=False),
    Column("tokens_per_minute", BigInteger, nullable=False),
    Column("concurrent_requests", BigInteger, nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_requests", BigInteger, nullable=False),
    Column("window_tokens", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("team_id", "scope", "scope_id", name="pk_rate_limits"),
)

# One row per admitted request still running (a concurrency slot) until it finishes or its
# lease expires (a router that died), with the tokens it was counted for in its window.
rate_limit_slots = Table(
    "rate_limit_slots",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("team_id", String(ID_LENGTH), nullable=False),
    Column("project_id", String(ID_LENGTH), nullable=False),
    Column("key_id", String(ID_LENGTH), nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("tokens", BigInteger, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_rate_limit_slots_team_id", "team_id"),
)

# No longer written: a generation's row is its fact's claim (docs/billing.md, Exactly once).
# Kept until a later migration drops it (expand, then contract).
inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
