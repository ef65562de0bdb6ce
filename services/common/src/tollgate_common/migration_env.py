"""The body of every service's Alembic ``env.py`` (async engines, SQLite batch mode)."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from tollgate_common.db import DatabaseTimeouts, create_engine


def _configure_and_run(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str, metadata: MetaData) -> None:
    engine = create_engine(url, DatabaseTimeouts(statement_seconds=None))  # a migration may be long
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure_and_run, metadata)
            await connection.commit()
    finally:
        await engine.dispose()


def run_env(metadata: MetaData, url_env_var: str) -> None:
    """Run the migrations against ``config.attributes['database_url']`` or ``$url_env_var``."""
    url = context.config.attributes.get("database_url") or os.environ.get(url_env_var, "")
    if not url:
        raise RuntimeError(f"no database URL: set {url_env_var}")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, metadata))
