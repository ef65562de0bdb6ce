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
    # Plain ADD COLUMN, not a batch: on SQLite a batch copies and drops the table, and dropping
    # `users` or `teams` would cascade to the memberships and keys that refer to them.
    op.add_column(
        "users", sa.Column("operator", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "users",
        sa.Column("free_tiers", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column(
        "teams", sa.Column("bootstrap", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "teams", sa.Column("free_tier", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    # The bootstrap identity of an existing installation: its user is the operator, its team
    # the one that can never be deleted.
    op.execute(
        sa.text("UPDATE users SET operator = :yes WHERE email = 'admin@localhost'").bindparams(
            yes=True
        )
    )
    op.execute(
        sa.text("UPDATE teams SET bootstrap = :yes WHERE slug = 'default'").bindparams(yes=True)
    )


def downgrade() -> None:
    op.drop_column("teams", "free_tier")
    op.drop_column("teams", "bootstrap")
    op.drop_column("users", "free_tiers")
    op.drop_column("users", "operator")
