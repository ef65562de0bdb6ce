"""Budgets per team, project and key; the end user and tags of each generation.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tollgate_common.db_types import Money

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("team_id", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("scope_id", sa.String(100), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("hard", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "scope", "scope_id", name="pk_budgets"),
    )
    with op.batch_alter_table("generations") as batch:
        batch.add_column(
            sa.Column("end_user", sa.String(200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("tags", sa.JSON, nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("tags")
        batch.drop_column("end_user")
    op.drop_table("budgets")
