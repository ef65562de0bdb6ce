"""Request rollups, the activity log, and an index for the retention sweep.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tollgate_common.db_types import Money

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fixed here, not imported: a migration must not change when the code does.
TTFT_BUCKETS = 24


def upgrade() -> None:
    op.create_index("ix_request_log_created", "request_log", ["created_at"])
    op.create_table(
        "request_rollup",
        sa.Column("team_id", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(100), nullable=False),
        sa.Column("resolution", sa.String(8), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("ttft_count", sa.BigInteger, nullable=False),
        sa.Column("ttft_sum_ms", sa.BigInteger, nullable=False),
        sa.Column("input_tokens", sa.BigInteger, nullable=False),
        sa.Column("output_tokens", sa.BigInteger, nullable=False),
        sa.Column("spend", Money, nullable=False),
        *(
            sa.Column(f"ttft_le_{index:02d}", sa.BigInteger, nullable=False)
            for index in range(TTFT_BUCKETS)
        ),
        sa.PrimaryKeyConstraint("team_id", "scope", "resolution", "bucket_start", "model"),
    )
    op.create_table(
        "activity_log",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(100), nullable=False),
        sa.Column("project_id", sa.String(100), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("actor_type", sa.String(32), nullable=False),
        sa.Column("account_type", sa.String(32), nullable=False),
        sa.Column("target_type", sa.String(200), nullable=False),
        sa.Column("target_id", sa.String(100), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index(
        "ix_activity_log_team_created", "activity_log", ["team_id", "created_at", "event_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_activity_log_team_created", table_name="activity_log")
    op.drop_table("activity_log")
    op.drop_table("request_rollup")
    op.drop_index("ix_request_log_created", table_name="request_log")
