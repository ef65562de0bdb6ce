"""The router's tables: the outbox of the facts it publishes, the answers kept under the
clients' idempotency keys and the responses of the Responses API kept per team."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)
from tollgate_common.outbox import outbox_table

metadata = MetaData()
outbox = outbox_table(metadata)

# One row per (team, Idempotency-Key): claimed ``running`` by the request that inserted it
# (``owner``), ``done`` once its answer is kept; gone after ``expires_at``.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("team_id", String(100), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("owner", String(32), nullable=False),
    Column("answer", LargeBinary(), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("team_id", "key", name="pk_idempotency_keys"),
    Index("ix_idempotency_keys_expires_at", "expires_at"),
)

# One row per (team, response id) of the Responses API (``store: true``): the response object
# and the conversation's input items as UTF-8 JSON; gone after ``expires_at``.
stored_responses = Table(
    "stored_responses",
    metadata,
    Column("team_id", String(100), nullable=False),
    Column("id", String(80), nullable=False),
    Column("response_json", LargeBinary(), nullable=False),
    Column("input_json", LargeBinary(), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("team_id", "id", name="pk_stored_responses"),
    Index("ix_stored_responses_expires_at", "expires_at"),
)
