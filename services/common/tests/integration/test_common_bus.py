"""JetStream helper and outbox against a real nats-server and a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select
from tollgate_common.bus import USAGE_RECORDED, Bus, Delivery, PoisonMessage, TransientError
from tollgate_common.db import create_engine
from tollgate_common.outbox import Fact, Outbox, outbox_table
from tollgate_common.testing import nats_server


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[Bus]:
    with nats_server(tmp_path / "js") as url:
        connected = await Bus.connect(url, "test")
        await connected.ensure_streams()
        await connected.ensure_streams()  # idempotent
        yield connected
        await connected.close()


async def _collect(
    bus: Bus, durable: str, handler_outcomes: dict[str, list[str]], until: int
) -> list[str]:
    """Consume until ``until`` successful deliveries; outcomes per msg id drive the handler."""
    seen: list[str] = []
    stop = asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        outcome = handler_outcomes.get(delivery.msg_id, ["ok"])
        step = outcome.pop(0) if len(outcome) > 1 else outcome[0]
        if step == "transient":
            raise TransientError("db down")
        if step == "poison":
            raise PoisonMessage("garbage")
        seen.append(delivery.msg_id)
        if len(seen) >= until:
            stop.set()

    task = asyncio.create_task(
        bus.consume(
            stream="TOLLGATE_USAGE",
            subject=USAGE_RECORDED,
            durable=durable,
            handler=handler,
            stop=stop,
            nak_delay_seconds=0.1,
        )
    )
    await asyncio.wait_for(stop.wait(), timeout=20)
    await task
    return seen


async def test_publish_deduplicates_on_msg_id(bus: Bus) -> None:
    assert await bus.publish(USAGE_RECORDED, b"a", "gen_1") is False
    assert await bus.publish(USAGE_RECORDED, b"a", "gen_1") is True
    info = await bus.js.stream_info("TOLLGATE_USAGE")
    assert info.state.messages == 1


async def test_consumer_acks_redelivers_transient_and_terminates_poison(bus: Bus) -> None:
    for msg_id in ("gen_ok", "gen_flaky", "gen_poison", "gen_last"):
        await bus.publish(USAGE_RECORDED, msg_id.encode(), msg_id)
    outcomes = {"gen_flaky": ["transient", "ok"], "gen_poison": ["poison"]}
    seen = await _collect(bus, "test-consumer", outcomes, until=3)
    assert sorted(seen) == ["gen_flaky", "gen_last", "gen_ok"]
    # A durable consumer resumes where it stopped: nothing is delivered twice.
    await bus.publish(USAGE_RECORDED, b"new", "gen_new")
    assert await _collect(bus, "test-consumer", {}, until=1) == ["gen_new"]


async def test_outbox_keeps_facts_until_nats_takes_them(bus: Bus, tmp_path: Path) -> None:
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'producer.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    outbox = Outbox(engine, table, retry_seconds=0.05)
    relay = asyncio.create_task(outbox.run())

    outbox.put(Fact(USAGE_RECORDED, "gen_a", b"A"))
    outbox.put(Fact(USAGE_RECORDED, "gen_b", b"B"))
    for _ in range(100):  # no bus yet: the facts wait in the table
        async with engine.connect() as conn:
            stored = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
        if stored == 2:
            break
        await asyncio.sleep(0.02)
    assert stored == 2

    outbox.bus = bus
    outbox.put(Fact(USAGE_RECORDED, "gen_c", b"C"))
    seen = await _collect(bus, "outbox-check", {}, until=3)
    assert sorted(seen) == ["gen_a", "gen_b", "gen_c"]
    await outbox.close()
    await asyncio.wait_for(relay, timeout=5)
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(table))).scalar_one() == 0
    await engine.dispose()
