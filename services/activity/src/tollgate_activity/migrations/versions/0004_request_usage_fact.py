"""Each request's usage fact in one column (``usage``); the columns it holds that the request
log does not filter or page by get defaults (no longer written; a later migration drops them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 06:00:00
"""

from collections.abc import Sequence

from tollgate_common.usage_migration import add_usage_column, drop_usage_column

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_LONGER_WRITTEN = (
    "key_id",
    "credential_type",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "cost",
    "market_cost",
    "ttft_ms",
    "latency_ms",
    "streamed",
    "finish_reason",
    "status",
    "app_title",
    "app_referer",
    "attempts",
)


def upgrade() -> None:
    add_usage_column("request_log", "generation_id", {}, NO_LONGER_WRITTEN)


def downgrade() -> None:
    drop_usage_column("request_log", NO_LONGER_WRITTEN)
