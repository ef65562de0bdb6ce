"""oidc_signing_keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 00:00:02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_signing_keys",
        sa.Column("kid", sa.String(40), nullable=False),
        sa.Column("algorithm", sa.String(10), nullable=False),
        sa.Column("public_jwk", sa.String(2000), nullable=False),
        sa.Column("kek_id", sa.String(16), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_oidc_signing_keys"),
    )


def downgrade() -> None:
    op.drop_table("oidc_signing_keys")
