"""Rate limits per team, project and key, and the concurrency slots of running requests.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("team_id", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("scope_id", sa.String(100), nullable=False),
        sa.Column("requests_per_minute", sa.BigInteger, nullable=False),
        sa.Column("tokens_per_minute", sa.BigInteger, nullable=False),
        sa.Column("concurrent_requests", sa.BigInteger, nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_requests", sa.BigInteger, nullable=False),
        sa.Column("window_tokens", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "scope", "scope_id", name="pk_rate_limits"),
    )
    op.create_table(
        "rate_limit_slots",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("team_id", sa.String(100), nullable=False),
        sa.Column("project_id", sa.String(100), nullable=False),
        sa.Column("key_id", sa.String(100), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tokens", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rate_limit_slots_team_id", "rate_limit_slots", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_rate_limit_slots_team_id", "rate_limit_slots")
    op.drop_table("rate_limit_slots")
    op.drop_table("rate_limits")
