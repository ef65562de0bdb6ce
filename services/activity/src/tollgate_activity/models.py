"""Activity's tables: the request log, its rollups, the activity log and the consumer inbox."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)
from tollgate_common.db_types import Money, UtcDateTime
from tollgate_common.inbox import inbox_table
from tollgate_common.usage_record import UsageTable, usage_column

from tollgate_activity.rollups.buckets import BUCKET_COLUMNS

# Column sizes; ids and names longer than these are refused.
ID_LENGTH = 100
NAME_LENGTH = 200
SHORT_LENGTH = 32

metadata = MetaData()

# A request's row: its usage fact (the ``usage`` column) and the values the request log filters
# and pages by (docs/activity.md, "The request log"). Every column is named as the fact's
# field; :data:`REQUEST_ROWS` maps fact ⇄ row.
request_log = Table(
    "request_log",
    metadata,
    Column("generation_id", String(ID_LENGTH), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("team_id", String(ID_LENGTH), nullable=False),
    Column("project_id", String(ID_LENGTH), nullable=False),
    Column("model", String(NAME_LENGTH), nullable=False),
    Column("provider", String(NAME_LENGTH), nullable=False),
    usage_column(),
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
REQUEST_ROWS = UsageTable(request_log, {})

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
