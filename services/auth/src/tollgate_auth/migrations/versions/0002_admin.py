"""projects, users.default_team_id, outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("team_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name="fk_projects_team_id_teams", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_projects_team_id", "projects", ["team_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("default_team_id", sa.String(40), nullable=True))
    # Existing users (the bootstrap owner) default to the first team they joined.
    op.execute(
        "UPDATE users SET default_team_id = (SELECT m.team_id FROM memberships m"
        " WHERE m.user_id = users.id ORDER BY m.created_at, m.team_id LIMIT 1)"
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("msg_id", sa.String(100), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )


def downgrade() -> None:
    op.drop_table("outbox")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("default_team_id")
    op.drop_index("ix_projects_team_id", table_name="projects")
    op.drop_table("projects")
