"""Alembic environment of the activity database."""

from tollgate_activity.models import metadata
from tollgate_common.migration_env import run_env

run_env(metadata, "TOLLGATE_ACTIVITY_DATABASE_URL")
