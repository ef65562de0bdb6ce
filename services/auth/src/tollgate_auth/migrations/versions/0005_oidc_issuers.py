"""oidc_issuers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 00:00:03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_issuers",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("team_id", sa.String(40), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("jwks_uri", sa.String(1000), nullable=True),
        sa.Column("jwks_json", sa.String(20000), nullable=True),
        sa.Column("audience", sa.String(500), nullable=False),
        sa.Column("team_claim_kind", sa.String(10), nullable=False),
        sa.Column("team_claim", sa.String(100), nullable=False),
        sa.Column("project_claim", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_issuers"),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name="fk_oidc_issuers_team_id_teams", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("team_id", "issuer", name="uq_oidc_issuers_team_id_issuer"),
    )
    op.create_index("ix_oidc_issuers_issuer", "oidc_issuers", ["issuer"])


def downgrade() -> None:
    op.drop_index("ix_oidc_issuers_issuer", table_name="oidc_issuers")
    op.drop_table("oidc_issuers")
