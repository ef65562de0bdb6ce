"""Indexes for the request log's model and project filters.

Without them a page filtered by a model (or project) reads the team's rows newest first until
it has found a page: fine for a common model, but a model with few or no requests in the
range reads all of them (seconds with millions of rows; bench/activity.py).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 22:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_request_log_team_model_created",
        "request_log",
        ["team_id", "model", "created_at", "generation_id"],
    )
    op.create_index(
        "ix_request_log_team_project_created",
        "request_log",
        ["team_id", "project_id", "created_at", "generation_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_request_log_team_project_created", table_name="request_log")
    op.drop_index("ix_request_log_team_model_created", table_name="request_log")
