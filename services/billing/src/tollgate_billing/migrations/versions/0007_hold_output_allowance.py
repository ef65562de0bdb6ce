"""The output allowance of a hold: the output tokens each generation drawn from it may send
upstream when billing held it under money pressure (0: each generation's own limit), so that a
repeated Reserve answers it as it was made.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A server default: the previous release's billing keeps inserting holds without it.
    op.add_column(
        "holds",
        sa.Column("output_allowance", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    with op.batch_alter_table("holds") as batch:
        batch.drop_column("output_allowance")
