"""Every service's migrations go up from empty and from the previous release (revision 0001,
what main shipped before this release's migrations), on SQLite and on PostgreSQL; both paths
end at the same schema."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine
from tollgate_activity.app import MIGRATIONS_DIR as ACTIVITY
from tollgate_auth.app import MIGRATIONS_DIR as AUTH
from tollgate_billing.app import MIGRATIONS_DIR as BILLING
from tollgate_common.db import migrate
from tollgate_common.testing import scratch_database
from tollgate_router.app import MIGRATIONS as ROUTER

SERVICES = {"auth": AUTH, "router": ROUTER, "billing": BILLING, "activity": ACTIVITY}
PREVIOUS_RELEASE = "0001"


def _schema(sync_connection: Any) -> dict[str, Any]:
    inspector = inspect(sync_connection)
    return {
        table: {
            "columns": {c["name"]: str(c["type"]) for c in inspector.get_columns(table)},
            "indexes": sorted(i["name"] or "" for i in inspector.get_indexes(table)),
        }
        for table in inspector.get_table_names()
    }


async def schema_of(url: str) -> tuple[dict[str, Any], str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            schema = await connection.run_sync(_schema)
            version = (
                await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            ).scalar_one()
        return schema, str(version)
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def two_databases(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    async with (
        scratch_database(request.param, tmp_path, "migrate_fresh") as fresh,
        scratch_database(request.param, tmp_path, "migrate_upgraded") as upgraded,
    ):
        yield fresh, upgraded


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_migrations_go_up_from_empty_and_from_the_previous_release(
    service: str, two_databases: tuple[str, str]
) -> None:
    fresh, upgraded = two_databases
    script_location = SERVICES[service]

    await asyncio.to_thread(migrate, fresh, script_location)
    await asyncio.to_thread(migrate, upgraded, script_location, PREVIOUS_RELEASE)
    previous, previous_version = await schema_of(upgraded)
    await asyncio.to_thread(migrate, upgraded, script_location)

    fresh_schema, fresh_version = await schema_of(fresh)
    upgraded_schema, upgraded_version = await schema_of(upgraded)
    assert previous_version == PREVIOUS_RELEASE and previous
    assert upgraded_version == fresh_version
    assert upgraded_schema == fresh_schema
