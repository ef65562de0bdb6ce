"""``Outbox.deliver`` against a real nats-server and a real SQLite file: it returns once
JetStream acknowledged the fact, or (NATS gone) once the fact is in the table; what is in the
table goes out from a new relay after a restart, oldest first."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from sqlalchemy import MetaData, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common.bus import USAGE_RECORDED, Bus
from tollgate_common.db import create_engine
from tollgate_common.outbox import Fact, Outbox, outbox_table
from tollgate_common.testing import (
    free_port,
    freeze,
    nats_server,
    nats_server_binary,
    wait_for_port,
)


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


async def test_a_fact_jetstream_does_not_take_is_stored_after_one_try_and_published_later(
    tmp_path: Path,
) -> None:
    """NATS is connected but JetStream does not take the fact (no stream for its subject yet):
    ``deliver`` returns once the fact is in the table, after one publish, not two; the fact
    goes out from the table once the stream is there."""
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'producer.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    with nats_server(tmp_path / "js") as url:
        bus = await Bus.connect(url, "no-stream-yet")
        tries: list[str] = []
        publish = bus.publish

        async def counted(
            subject: str, payload: bytes, msg_id: str, headers: dict[str, str] | None = None
        ) -> bool:
            tries.append(msg_id)
            return await publish(subject, payload, msg_id, headers)

        bus.publish = counted  # type: ignore[method-assign]
        outbox = Outbox(engine, table, publish_timeout=0.5, retry_seconds=0.05)
        outbox.connect(bus)
        relay = asyncio.create_task(outbox.run())
        assert await outbox.deliver(Fact(USAGE_RECORDED, "gen_early", b"x")) is True
        assert await _stored(engine, table) == 1
        assert tries == ["gen_early"]
        assert outbox.tally.stored == 1 and outbox.tally.published == 0

        await bus.ensure_streams()
        for _ in range(200):
            if await _stored(engine, table) == 0:
                break
            await asyncio.sleep(0.05)
        assert await _usage_ids(bus) == ["gen_early"]
        await outbox.close()
        await asyncio.wait_for(relay, timeout=5)
        await bus.close()
    await engine.dispose()


def _started(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_a_producer_cancelled_while_it_publishes_does_not_lose_its_fact(
    tmp_path: Path,
) -> None:
    """The generation that waited for its fact is cancelled before JetStream answered, and
    NATS, frozen with the fact unread, is killed with ``kill -9``: once NATS is back the fact
    reaches JetStream, once."""
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'producer.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    port = free_port()
    command = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js"]
    command += ["-sd", str(tmp_path / "js")]
    nats = _started(command)
    try:
        wait_for_port(port)
        bus = await Bus.connect(f"nats://127.0.0.1:{port}", "cancelled")
        await bus.ensure_streams()
        outbox = Outbox(engine, table, publish_timeout=5, retry_seconds=0.05)
        outbox.connect(bus)
        relay = asyncio.create_task(outbox.run())
        freeze(nats)
        waiting = asyncio.create_task(outbox.deliver(Fact(USAGE_RECORDED, "gen_cut", b"x")))
        await asyncio.sleep(0.2)  # published; NATS does not read it
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        assert waiting.cancelled()
        nats.kill()
        nats.wait()
        nats = _started(command)
        wait_for_port(port)
        for _ in range(300):
            if outbox.tally.published + outbox.tally.backlog_published == 1:
                break
            await asyncio.sleep(0.05)
        assert await _usage_ids(bus) == ["gen_cut"]
        await outbox.close()
        await asyncio.wait_for(relay, timeout=5)
        assert outbox.tally.lost == 0 and outbox.tally.cut == 0
        await bus.close()
    finally:
        nats.kill()
        nats.wait()
    await engine.dispose()
