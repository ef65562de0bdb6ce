"""Alembic environment of the auth database (``tollgate-auth migrate``)."""

from tollgate_auth.models import metadata
from tollgate_common.migration_env import run_env

run_env(metadata, "TOLLGATE_AUTH_DATABASE_URL")
