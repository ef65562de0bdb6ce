"""A database that is too slow, locked or gone fails the statement clearly (UNAVAILABLE naming
the database) instead of holding the request: PostgreSQL's statement timeout (when
TOLLGATE_TEST_POSTGRES_URL is set), SQLite's busy timeout, and connections that fail or hang."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError
from tollgate_common.db import DatabaseTimeouts, DatabaseUnavailable, create_engine
from tollgate_common.settings import CommonSettings
from tollgate_common.testing import free_port, scratch_database


@pytest.mark.postgres
async def test_a_postgres_statement_past_the_timeout_is_cancelled_and_fails_clearly(
    tmp_path: Path,
) -> None:
    async with scratch_database("postgres", tmp_path, "db_timeouts") as url:
        engine = create_engine(url, DatabaseTimeouts(statement_seconds=0.5))
        try:
            with pytest.raises(DatabaseUnavailable) as failed:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT pg_sleep(30)"))
            assert failed.value.code is grpc.StatusCode.UNAVAILABLE
            assert str(failed.value) == (
                f"database {make_url(url).database} is unavailable: "
                "a statement ran longer than 0.5 s and was cancelled"
            )
            async with engine.connect() as conn:  # the next statement is served as usual
                assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
        finally:
            await engine.dispose()


@pytest.mark.postgres
async def test_a_postgres_database_closed_to_connections_is_unavailable_not_an_error(
    tmp_path: Path,
) -> None:
    """An operator closing the database (or PostgreSQL shutting down) is an outage the caller
    may retry, UNAVAILABLE, not an INTERNAL error."""
    async with scratch_database("postgres", tmp_path, "db_closed") as url:
        name = make_url(url).database
        engine = create_engine(url)
        admin = create_engine(url.rsplit("/", 1)[0] + "/postgres")
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            async with admin.connect() as conn:
                await conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name"
                    ),
                    {"name": name},
                )
                await conn.commit()
            for _ in range(2):  # the dropped pooled connection, then a refused new one
                with pytest.raises(DatabaseUnavailable) as failed:
                    async with engine.connect() as conn:
                        await conn.execute(text("SELECT 1"))
                assert failed.value.code is grpc.StatusCode.UNAVAILABLE
            async with admin.connect() as conn:
                await conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
                await conn.commit()
            async with engine.connect() as conn:  # served again once it opens
                assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
        finally:
            await engine.dispose()
            await admin.dispose()


async def test_sqlite_waits_for_a_lock_no_longer_than_the_timeout(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}"
    holder = create_engine(url)
    waiter = create_engine(url, DatabaseTimeouts(statement_seconds=0.2))
    try:
        async with holder.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        async with holder.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))  # holds the write lock
            with pytest.raises(DatabaseUnavailable) as failed:
                async with waiter.begin() as other:
                    await other.execute(text("INSERT INTO t VALUES (2)"))
        assert str(failed.value) == (
            "database billing.db is unavailable: a statement waited more than 0.2 s for a lock"
        )
        assert isinstance(failed.value, SQLAlchemyError)  # retried where database errors are
        async with waiter.begin() as conn:  # the lock is gone: it writes
            await conn.execute(text("INSERT INTO t VALUES (3)"))
        async with waiter.connect() as conn:
            rows = (await conn.execute(text("SELECT x FROM t ORDER BY x"))).scalars().all()
        assert rows == [1, 3]
    finally:
        await holder.dispose()
        await waiter.dispose()


async def test_a_postgres_server_that_is_not_there_fails_clearly() -> None:
    engine = create_engine(f"postgresql+asyncpg://tollgate:secret@127.0.0.1:{free_port()}/billing")
    try:
        with pytest.raises(DatabaseUnavailable) as failed:
            async with engine.connect():
                pass
        assert str(failed.value).startswith("database billing is unavailable: it cannot be reached")
        assert "secret" not in str(failed.value)
    finally:
        await engine.dispose()


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    sock: socket.socket = server.sockets[0]
    yield sock.getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_a_postgres_server_that_never_answers_fails_after_the_connect_timeout(
    silent_server: int,
) -> None:
    engine = create_engine(
        f"postgresql+asyncpg://tollgate@127.0.0.1:{silent_server}/billing",
        DatabaseTimeouts(connect_seconds=0.3),
    )
    try:
        with pytest.raises(DatabaseUnavailable) as failed:
            async with engine.connect():
                pass
        assert str(failed.value) == "database billing is unavailable: it did not answer in time"
    finally:
        await engine.dispose()


def test_the_timeouts_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLLGATE_DB_CONNECT_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("TOLLGATE_DB_STATEMENT_TIMEOUT_SECONDS", "7")
    assert CommonSettings().database_timeouts() == DatabaseTimeouts(2.5, 7.0)
    monkeypatch.setenv("TOLLGATE_DB_STATEMENT_TIMEOUT_SECONDS", "0")
    with pytest.raises(ValueError, match="greater than 0"):
        CommonSettings()
