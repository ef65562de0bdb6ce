"""The ledger, team balances, the outbox of activity facts, and the index of the spend report.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tollgate_common.db_types import Money

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("team_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("actor_type", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("team_id", "idempotency_key", name="uq_ledger_entries_team_key"),
    )
    op.create_table(
        "balances",
        sa.Column("team_id", sa.String(100), primary_key=True),
        sa.Column("balance", Money, nullable=False),
        sa.Column("total_used", Money, nullable=False),
        sa.Column("free_balance", Money, nullable=False),
        sa.Column("purchased", sa.Boolean, nullable=False),
        sa.Column("free_anchor", sa.DateTime(timezone=True), nullable=True),
        sa.Column("free_period", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("msg_id", sa.String(100), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


    op.create_index(
        "ix_generations_team_id_created_at", "generations", ["team_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_generations_team_id_created_at", table_name="generations")
    op.drop_table("outbox")
    op.drop_table("balances")
    op.drop_table("ledger_entries")
