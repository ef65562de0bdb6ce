"""Each generation's usage fact in one column (``usage``); the columns it holds that billing does
not select by, group by or sum get defaults (no longer written; a later migration drops them).

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
    "user_id",
    "provider_model_id",
    "streamed",
    "finish_reason",
    "status",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "price_version",
    "ttft_ms",
    "latency_ms",
)


def upgrade() -> None:
    add_usage_column("generations", "id", {"id": "generation_id"}, NO_LONGER_WRITTEN)


def downgrade() -> None:
    drop_usage_column("generations", NO_LONGER_WRITTEN)
