"""Alembic environment of the router database (the outbox and the idempotency keys)."""

from tollgate_common.migration_env import run_env
from tollgate_router.models import metadata

run_env(metadata, "TOLLGATE_ROUTER_DATABASE_URL")
