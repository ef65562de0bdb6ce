"""``Outbox.deliver`` against a real nats-server and a real SQLite file: it returns once
JetStream acknowledged the fact, or (NATS gone) once the fact is in the table; what is in the
table goes out from a new relay after a restart, oldest first."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import MetaData, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common.bus import USAGE_RECORDED, Bus
from tollgate_common.db import create_engine
from tollgate_common.outbox import Fact, Outbox, outbox_table
from tollgate_common.testing import nats_server


async def _stored(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _usage_ids(bus: Bus) -> list[str]:
    info = await bus.js.stream_info("TOLLGATE_USAGE")
    ids = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        message = await bus.js.get_msg("TOLLGATE_USAGE", seq)
        assert message.headers is not None
        ids.append(message.headers["Nats-Msg-Id"])
    return ids


async def test_deliver_is_acknowledged_or_stored_and_the_table_survives_a_restart(
    tmp_path: Path,
) -> None:
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'producer.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)

    store = tmp_path / "js"
    with nats_server(store) as url:
        bus = await Bus.connect(url, "first")
        await bus.ensure_streams()
        outbox = Outbox(engine, table, publish_timeout=0.2, retry_seconds=0.05)
        outbox.connect(bus)
        relay = asyncio.create_task(outbox.run())
        delivered = await asyncio.gather(
            *(outbox.deliver(Fact(USAGE_RECORDED, f"gen_{i}", b"x")) for i in range(5))
        )
        assert delivered == [True] * 5
        assert sorted(await _usage_ids(bus)) == [f"gen_{i}" for i in range(5)]  # acknowledged
        assert await _stored(engine, table) == 0

    # NATS is gone: the next facts are durable once in the table.
    assert await outbox.deliver(Fact(USAGE_RECORDED, "gen_late_a", b"a")) is True
    assert await outbox.deliver(Fact(USAGE_RECORDED, "gen_late_b", b"b")) is True
    assert await _stored(engine, table) == 2
    relay.cancel()  # the process dies: a new one publishes what the table holds
    await asyncio.gather(relay, return_exceptions=True)
    await bus.nc.close()  # reconnecting to a server that is gone: nothing to drain

    with nats_server(store) as url:
        bus = await Bus.connect(url, "second")
        outbox = Outbox(engine, table, retry_seconds=0.05)
        relay = asyncio.create_task(outbox.run())
        outbox.connect(bus)
        for _ in range(200):
            if await _stored(engine, table) == 0:
                break
            await asyncio.sleep(0.05)
        assert (await _usage_ids(bus))[5:] == ["gen_late_a", "gen_late_b"]
        await outbox.close()
        await asyncio.wait_for(relay, timeout=5)
        await bus.close()
    await engine.dispose()
