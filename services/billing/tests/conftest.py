"""Fixtures of billing's tests: a migrated database on SQLite and (when available) PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_billing.app import MIGRATIONS_DIR
from tollgate_common.db import create_engine, migrate_async
from tollgate_common.testing import POSTGRES_ENV, fresh_postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}"
        return
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_ENV} not set: PostgreSQL tests skipped")
    async with fresh_postgres_database(base_url, "tollgate_billing_test") as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate_async(database_url, MIGRATIONS_DIR)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()
