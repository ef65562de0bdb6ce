"""Activity's tables: the request log, its rollups, the activity log and the consumer inbox."""

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
)
from tollgate_common.db_types import Money, UtcDateTime
from tollgate_common.inbox import inbox_table

from tollgate_activity.rollups import BUCKET_COLUMNS

# Column sizes; ids and names longer than these are refused, app attribution is clipped.
ID_LENGTH = 100
NAME_LENGTH = 200
SHORT_LENGTH = 32
APP_TITLE_LENGTH = 300
APP_REFERER_LENGTH = 2000

metadata = MetaData()

request_log = Table(
    "request_log",
    metadata,
    Column("generation_id", String(ID_LENGTH), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("team_id", String(ID_LENGTH), nullable=False),
    Column("project_id", String(ID_LENGTH), nullable=False),
    Column("key_id", String(ID_LENGTH), nullable=False),
    Column("model", String(NAME_LENGTH), nullable=False),
    Column("provider", String(NAME_LENGTH), nullable=False),
    Column("credential_type", String(SHORT_LENGTH), nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cached_input_tokens", BigInteger, nullable=False),
    Column("reasoning_tokens", BigInteger, nullable=False),
    Column("cost", Money, nullable=False),
    Column("market_cost", Money, nullable=False),
    Column("ttft_ms", BigInteger, nullable=False),
    Column("latency_ms", BigInteger, nullable=False),
    Column("streamed", Boolean, nullable=False),
    Column("finish_reason", String(SHORT_LENGTH), nullable=False),
    Column("status", String(SHORT_LENGTH), nullable=False),
    Column("app_title", String(APP_TITLE_LENGTH), nullable=False),
    Column("app_referer", String(APP_REFERER_LENGTH), nullable=False),
    Column("attempts", Integer, nullable=False),
    Index("ix_request_log_team_created", "team_id", "created_at", "generation_id"),
    # The model and project filters of the request log (a rare model must not read them all).
    Index("ix_request_log_team_model_created", "team_id", "model", "created_at", "generation_id"),
    Index(
        "ix_request_log_team_project_created",
        "team_id",
        "project_id",
        "created_at",
        "generation_id",
    ),
    # The retention sweep deletes by age across teams.
    Index("ix_request_log_created", "created_at"),
)

# One row per (team, scope, resolution, bucket, model); scope is "*" (the whole team) or a
# project id. The primary key's order serves the one query: a scope's buckets in a range.
request_rollup = Table(
    "request_rollup",
    metadata,
    Column("team_id", String(ID_LENGTH), nullable=False),
    Column("scope", String(ID_LENGTH), nullable=False),
    Column("resolution", String(8), nullable=False),
    Column("bucket_start", UtcDateTime, nullable=False),
    Column("model", String(NAME_LENGTH), nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("ttft_count", BigInteger, nullable=False),
    Column("ttft_sum_ms", BigInteger, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("spend", Money, nullable=False),
    *(Column(name, BigInteger, nullable=False) for name in BUCKET_COLUMNS),
    PrimaryKeyConstraint("team_id", "scope", "resolution", "bucket_start", "model"),
)

activity_log = Table(
    "activity_log",
    metadata,
    Column("event_id", String(ID_LENGTH), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("team_id", String(ID_LENGTH), nullable=False),
    Column("project_id", String(ID_LENGTH), nullable=False),
    Column("type", String(NAME_LENGTH), nullable=False),
    Column("actor_id", String(ID_LENGTH), nullable=False),
    Column("actor_type", String(SHORT_LENGTH), nullable=False),
    Column("account_type", String(SHORT_LENGTH), nullable=False),
    Column("target_type", String(NAME_LENGTH), nullable=False),
    Column("target_id", String(ID_LENGTH), nullable=False),
    Column("details", JSON, nullable=False),
    Index("ix_activity_log_team_created", "team_id", "created_at", "event_id"),
)

inbox = inbox_table(metadata)
