"""Alembic environment of the billing database."""

from tollgate_billing.models import metadata
from tollgate_common.migration_env import run_env

run_env(metadata, "TOLLGATE_BILLING_DATABASE_URL")
