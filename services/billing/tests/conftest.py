"""Fixtures of billing's tests: a migrated database on SQLite and (when available) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from tollgate_billing.app import MIGRATIONS_DIR
from tollgate_common.db import create_engine, migrate_async

POSTGRES_ENV = "TOLLGATE_TEST_POSTGRES_URL"


async def _fresh_postgres(base_url: str) -> AsyncIterator[str]:
    """A new database on the server of ``base_url``, dropped afterwards."""
    name = f"tollgate_billing_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}"
        return
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_ENV} not set: PostgreSQL tests skipped")
    async for url in _fresh_postgres(base_url):
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate_async(database_url, MIGRATIONS_DIR)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()
