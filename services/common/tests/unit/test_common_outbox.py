"""The outbox without NATS, on a real SQLite file: ``deliver`` returns once the fact is in the
table; memory is bounded when the table fails too, and the relay says how many facts it lost."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common.bus import USAGE_RECORDED
from tollgate_common.db import create_engine
from tollgate_common.outbox import Fact, Outbox, outbox_table


async def _engine(tmp_path: Path, *, with_table: bool) -> tuple[AsyncEngine, Table]:
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'producer.db'}")
    if with_table:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    return engine, table


async def _rows(engine: AsyncEngine, table: Table) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(table.c.msg_id).order_by(table.c.id))).scalars())


async def test_deliver_returns_once_the_fact_is_in_the_table(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine, table = await _engine(tmp_path, with_table=True)
    outbox = Outbox(engine, table, retry_seconds=0.05)
    relay = asyncio.create_task(outbox.run())

    # No bus: nothing can acknowledge it, so it is durable once committed.
    assert await outbox.deliver(Fact(USAGE_RECORDED, "gen_a", b"A")) is True
    assert await _rows(engine, table) == ["gen_a"]
    assert await outbox.deliver(Fact(USAGE_RECORDED, "gen_b", b"B")) is True
    assert await _rows(engine, table) == ["gen_a", "gen_b"]

    caplog.set_level(logging.INFO, logger="tollgate_common.outbox")
    await outbox.close()
    await asyncio.wait_for(relay, timeout=5)
    assert "0 facts published, 2 stored in the table" in caplog.text
    assert "0 lost, 0 cut" in caplog.text
    await engine.dispose()


async def test_memory_is_bounded_and_what_is_lost_is_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine, table = await _engine(tmp_path, with_table=False)  # every write fails
    outbox = Outbox(
        engine, table, retry_seconds=0.05, max_pending=3, durable_timeout=0.2, linger_seconds=0
    )
    relay = asyncio.create_task(outbox.run())

    assert await outbox.deliver(Fact(USAGE_RECORDED, "gen_0", b"0")) is False  # not durable
    for index in range(1, 6):
        outbox.put(Fact(USAGE_RECORDED, f"gen_{index}", b"x"))
    assert outbox.pending == 3  # the oldest were dropped
    assert outbox.tally.lost == 3

    relay.cancel()  # as the runtime does when the grace is over
    with pytest.raises(asyncio.CancelledError):
        await relay
    assert outbox.pending == 0
    tally = outbox.tally
    # Every fact put: none was published or stored (one may have been cut mid-write).
    assert tally.lost + tally.cut == 6 and tally.cut <= 1
    assert "0 facts published, 0 stored in the table" in caplog.text
    assert f"{tally.lost} lost, {tally.cut} cut while being published or stored" in caplog.text
    await engine.dispose()
