"""Billing's tables: generation records and the consumer inbox."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    MetaData,
    String,
    Table,
)
from tollgate_common.db_types import Money, UtcDateTime
from tollgate_common.inbox import inbox_table

# Column sizes; the service rejects longer values before they reach the database.
ID_LENGTH = 100
NAME_LENGTH = 200
SHORT_LENGTH = 32

metadata = MetaData()

generations = Table(
    "generations",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("team_id", String(ID_LENGTH), nullable=False),
    Column("project_id", String(ID_LENGTH), nullable=False),
    Column("key_id", String(ID_LENGTH), nullable=False),
    Column("user_id", String(ID_LENGTH), nullable=False),
    Column("model", String(NAME_LENGTH), nullable=False),
    Column("provider", String(NAME_LENGTH), nullable=False),
    Column("provider_model_id", String(NAME_LENGTH), nullable=False),
    Column("credential_type", String(SHORT_LENGTH), nullable=False),
    Column("streamed", Boolean, nullable=False),
    Column("finish_reason", String(SHORT_LENGTH), nullable=False),
    Column("status", String(SHORT_LENGTH), nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cached_input_tokens", BigInteger, nullable=False),
    Column("cache_write_tokens", BigInteger, nullable=False),
    Column("reasoning_tokens", BigInteger, nullable=False),
    Column("cost", Money, nullable=False),
    Column("market_cost", Money, nullable=False),
    Column("price_version", String(NAME_LENGTH), nullable=False),
    Column("ttft_ms", BigInteger, nullable=False),
    Column("latency_ms", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_generations_team_id", "team_id"),
)

inbox = inbox_table(metadata)
