"""Holds and credit leases in the database: a billing restart forgets none, and several billing
replicas decide reservations on the same figures (docs/billing.md, "Replicas").

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tollgate_common.db_types import Money

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "holds",
        sa.Column("team_id", sa.String(100), nullable=False),
        sa.Column("hold_id", sa.String(100), nullable=False),
        sa.Column("project_id", sa.String(100), nullable=False),
        sa.Column("key_id", sa.String(100), nullable=False),
        sa.Column("reserved", Money, nullable=False),
        sa.Column("max_output_tokens", sa.Integer, nullable=False),
        sa.Column("held", Money, nullable=False),
        sa.Column("debited", Money, nullable=False),
        sa.Column("returned", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("instance_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "hold_id", name="pk_holds"),
    )
    op.create_index("ix_holds_state_expires_at", "holds", ["state", "expires_at"])
    op.add_column("balances", sa.Column("held", Money, nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("balances", "held")
    op.drop_index("ix_holds_state_expires_at", table_name="holds")
    op.drop_table("holds")
