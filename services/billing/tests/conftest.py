"""Fixtures of billing's tests: a migrated database on SQLite and (when available) PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_billing.app import MIGRATIONS_DIR
from tollgate_common.db import create_engine, migrate_async
from tollgate_common.testing import scratch_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with scratch_database(request.param, tmp_path, "billing") as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate_async(database_url, MIGRATIONS_DIR)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()
