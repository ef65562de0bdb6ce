"""operators, the bootstrap team, one free tier per user

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("operator", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("free_tiers", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    with op.batch_alter_table("teams") as batch:
        batch.add_column(
            sa.Column("bootstrap", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("free_tier", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    # The bootstrap identity of an existing installation: its user is the operator, its team
    # the one that can never be deleted.
    op.execute("UPDATE users SET operator = TRUE WHERE email = 'admin@localhost'")
    op.execute("UPDATE teams SET bootstrap = TRUE WHERE slug = 'default'")


def downgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("free_tier")
        batch.drop_column("bootstrap")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("free_tiers")
        batch.drop_column("operator")
