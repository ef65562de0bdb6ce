"""The consumer inbox against a real database (SQLite; PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common.db import create_engine
from tollgate_common.inbox import (
    IdempotentWriter,
    Stored,
    claim,
    claim_many,
    inbox_table,
    refuses_values,
)
from tollgate_common.testing import scratch_database

metadata = MetaData()
inbox = inbox_table(metadata)
things = Table(
    "things",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("size", Integer, nullable=False),
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with scratch_database(request.param, tmp_path, "common") as url:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield engine
        await engine.dispose()


async def _count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_claim_many_claims_each_id_once(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        assert await claim(conn, inbox, "billing", "m_0")
        assert not await claim(conn, inbox, "billing", "m_0")
    ids = [f"m_{index}" for index in range(1234)]  # more than one IN list's worth
    async with engine.begin() as conn:
        assert await claim_many(conn, inbox, "billing", [*ids, "m_7"]) == set(ids[1:])
    async with engine.begin() as conn:
        assert await claim_many(conn, inbox, "billing", ids) == set()
        assert await claim_many(conn, inbox, "billing", []) == set()
        # Another consumer has inbox entries of its own.
        assert await claim_many(conn, inbox, "activity", ["m_1", "m_1", "m_2"]) == {"m_1", "m_2"}
    assert await _count(engine, inbox) == 1236


async def test_claims_roll_back_with_their_transaction(engine: AsyncEngine) -> None:
    async def claim_then_fail() -> None:
        async with engine.begin() as conn:
            assert await claim_many(conn, inbox, "billing", ["m_1", "m_2"]) == {"m_1", "m_2"}
            raise RuntimeError("the effect failed")

    with pytest.raises(RuntimeError):
        await claim_then_fail()
    assert await _count(engine, inbox) == 0


async def test_a_writer_inserts_each_message_once(engine: AsyncEngine) -> None:
    writer = IdempotentWriter(engine, inbox, "things", things)
    assert await writer.insert("t_0", {"id": "t_0", "size": 0})
    assert not await writer.insert("t_0", {"id": "t_0", "size": 99})
    batch = [(f"t_{index % 4}", {"id": f"t_{index % 4}", "size": index}) for index in range(6)]
    assert await writer.insert_many(batch) == [
        Stored.DUPLICATE,  # t_0: inserted before
        Stored.NEW,
        Stored.NEW,
        Stored.NEW,
        Stored.DUPLICATE,  # t_0 again
        Stored.DUPLICATE,  # t_1: earlier in this batch
    ]
    assert await writer.insert_many(batch[::-1]) == [Stored.DUPLICATE] * 6
    assert await writer.insert_many([]) == []
    async with engine.connect() as conn:
        rows = (await conn.execute(select(things.c.id, things.c.size).order_by("id"))).all()
    assert [tuple(row) for row in rows] == [("t_0", 0), ("t_1", 1), ("t_2", 2), ("t_3", 3)]
    assert await _count(engine, inbox) == 4


async def test_a_value_too_long_for_its_column_is_refused_never_cut(engine: AsyncEngine) -> None:
    """PostgreSQL refuses a string longer than its VARCHAR (the batch's other rows are stored);
    SQLite keeps any length. Neither stores a shortened copy."""
    writer = IdempotentWriter(engine, inbox, "things", things)
    long_id = "t_" + "x" * 150
    results = await writer.insert_many(
        [("m_long", {"id": long_id, "size": 1}), ("m_ok", {"id": "t_ok", "size": 2})]
    )
    async with engine.connect() as conn:
        ids = set((await conn.execute(select(things.c.id))).scalars())
    if engine.dialect.name == "postgresql":
        assert results == [Stored.REJECTED, Stored.NEW]
        assert ids == {"t_ok"}
        with pytest.raises(DBAPIError) as refused:
            async with engine.begin() as conn:
                await claim_many(conn, inbox, "things", ["m_" + "y" * 150])
        assert refuses_values(refused.value)
    else:
        assert results == [Stored.NEW, Stored.NEW]
        assert ids == {long_id, "t_ok"}


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "refused"),
    [("22021", True), ("22003", True), ("23505", False), ("40001", False), ("57P01", False)],
)
def test_data_exceptions_are_refused_values(sqlstate: str, refused: bool) -> None:
    error = DBAPIError("INSERT", {}, _PgError(sqlstate))
    assert refuses_values(error) is refused
    assert not refuses_values(OperationalError("INSERT", {}, Exception("database is locked")))
