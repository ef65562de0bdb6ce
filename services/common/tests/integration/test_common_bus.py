"""JetStream helper and outbox against a real nats-server and a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo
from sqlalchemy import MetaData, func, select
from tollgate_common.bus import (
    ACK_WAIT_SECONDS,
    CONSUMER_HEADER,
    DEAD_LETTER_STREAM,
    ORIGINAL_ID_HEADER,
    REASON_HEADER,
    SUBJECT_HEADER,
    USAGE_RECORDED,
    Backoff,
    BatchHandler,
    Bus,
    Delivery,
    Outcome,
    Poisoned,
    PoisonMessage,
    TransientError,
    Verdict,
)
from tollgate_common.db import create_engine
from tollgate_common.outbox import Fact, Outbox, outbox_table
from tollgate_common.testing import nats_server

# Redeliveries a tenth of a second apart: the tests do not wait for the real backoff.
FAST = Backoff(0.1, 0.1)


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[Bus]:
    with nats_server(tmp_path / "js") as url:
        connected = await Bus.connect(url, "test")
        await connected.ensure_streams()
        await connected.ensure_streams()  # idempotent
        yield connected
        await connected.close()


async def _settled(bus: Bus, durable: str) -> ConsumerInfo:
    """The consumer's info once nothing it was delivered awaits an ack (acks travel
    asynchronously: the server may not have the last one yet)."""
    for _ in range(200):
        info: ConsumerInfo = await bus.js.consumer_info("TOLLGATE_USAGE", durable)
        if info.num_ack_pending == 0:
            break
        await asyncio.sleep(0.05)
    return info


async def _consume_until_stopped(
    bus: Bus,
    durable: str,
    handler: BatchHandler,
    stop: asyncio.Event,
    backoff: Backoff = FAST,
    timeout: float = 20,
) -> None:
    """Run a batch consumer of usage facts until ``handler`` sets ``stop``."""
    task = asyncio.create_task(
        bus.consume_batches(
            stream="TOLLGATE_USAGE",
            subject=USAGE_RECORDED,
            durable=durable,
            handler=handler,
            stop=stop,
            backoff=backoff,
        )
    )
    await asyncio.wait_for(stop.wait(), timeout=timeout)
    await task


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
            backoff=FAST,
        )
    )
    await asyncio.wait_for(stop.wait(), timeout=20)
    await task
    return seen


async def test_a_fact_is_redelivered_past_the_old_limit_of_50_until_it_succeeds(bus: Bus) -> None:
    # A consumer an older release created: at most 50 deliveries, a 30 s ack wait.
    await bus.js.add_consumer(
        "TOLLGATE_USAGE",
        ConsumerConfig(
            name="old-consumer",
            durable_name="old-consumer",
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=30,
            max_deliver=50,
            filter_subject=USAGE_RECORDED,
        ),
    )
    await bus.publish(USAGE_RECORDED, b"fact", "gen_outage")
    deliveries: list[int] = []
    stop = asyncio.Event()

    async def handler(batch: Sequence[Delivery]) -> list[Verdict]:
        deliveries.extend(d.num_delivered for d in batch)
        if len(deliveries) <= 60:
            return [Outcome.NAK] * len(batch)  # the database is down for 60 deliveries
        stop.set()
        return [Outcome.ACK] * len(batch)

    await _consume_until_stopped(
        bus, "old-consumer", handler, stop, backoff=Backoff(0.01, 0.02), timeout=60
    )
    assert deliveries == list(range(1, 62))
    info = await _settled(bus, "old-consumer")
    assert (info.config.max_deliver, info.num_ack_pending, info.num_pending) == (-1, 0, 0)
    assert info.config.ack_wait == ACK_WAIT_SECONDS


async def test_poison_is_dead_lettered_with_its_reason_before_it_is_terminated(bus: Bus) -> None:
    await bus.publish(USAGE_RECORDED, b"\xff garbage", "gen_poison")
    await bus.publish(USAGE_RECORDED, b"good", "gen_good")
    stop = asyncio.Event()

    async def handler(batch: Sequence[Delivery]) -> list[Verdict]:
        if "gen_good" in {d.msg_id for d in batch}:
            stop.set()
        return [
            Poisoned("cannot decode") if d.msg_id == "gen_poison" else Outcome.ACK for d in batch
        ]

    await _consume_until_stopped(bus, "burying", handler, stop)
    dead = await bus.js.get_msg(DEAD_LETTER_STREAM, seq=1)
    assert dead.subject == f"tollgate.dead.{USAGE_RECORDED}"
    assert dead.data == b"\xff garbage"
    headers = dead.headers or {}
    assert (
        headers[SUBJECT_HEADER],
        headers[ORIGINAL_ID_HEADER],
        headers[CONSUMER_HEADER],
        headers[REASON_HEADER],
    ) == (USAGE_RECORDED, "gen_poison", "burying", "cannot decode")
    assert (await bus.js.stream_info(DEAD_LETTER_STREAM)).state.messages == 1
    # Terminated: neither comes again.
    info = await _settled(bus, "burying")
    assert (info.num_ack_pending, info.num_pending) == (0, 0)


async def test_the_backlog_dates_the_oldest_unacknowledged_fact(bus: Bus) -> None:
    await bus.ensure_consumer("TOLLGATE_USAGE", USAGE_RECORDED, "slow")
    assert (await bus.backlog("TOLLGATE_USAGE", "slow")).age_seconds() == 0.0
    await bus.publish(USAGE_RECORDED, b"first", "gen_first")
    await bus.publish(USAGE_RECORDED, b"second", "gen_second")
    first = await bus.js.get_msg("TOLLGATE_USAGE", seq=1)
    backlog = await bus.backlog("TOLLGATE_USAGE", "slow")
    assert (backlog.pending, backlog.ack_pending, backlog.oldest) == (2, 0, first.time)
    subscription = await bus.js.pull_subscribe_bind(durable="slow", stream="TOLLGATE_USAGE")
    [message] = await subscription.fetch(1, timeout=5)
    await message.ack_sync()  # the first is done: the second is now the oldest
    second = await bus.js.get_msg("TOLLGATE_USAGE", seq=2)
    backlog = await bus.backlog("TOLLGATE_USAGE", "slow")
    assert (backlog.pending + backlog.ack_pending, backlog.oldest) == (1, second.time)
    await subscription.unsubscribe()


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


async def test_batch_consumer_settles_each_message_by_its_outcome(bus: Bus) -> None:
    ids = [f"gen_{index}" for index in range(6)]
    for msg_id in ids:
        await bus.publish(USAGE_RECORDED, msg_id.encode(), msg_id)
    await bus.publish(USAGE_RECORDED, b"poison", "gen_poison")
    batches: list[list[tuple[str, int]]] = []
    done: set[str] = set()
    stop = asyncio.Event()
    failed_once: set[str] = set()

    async def handler(deliveries: Sequence[Delivery]) -> list[Outcome]:
        batches.append([(d.msg_id, d.num_delivered) for d in deliveries])
        if "gen_5" in {d.msg_id for d in deliveries} and "boom" not in failed_once:
            failed_once.add("boom")
            raise RuntimeError("the whole batch fails once")
        outcomes = []
        for delivery in deliveries:
            if delivery.msg_id == "gen_poison":
                outcomes.append(Outcome.TERM)
            elif delivery.msg_id == "gen_2" and delivery.num_delivered == 2:
                outcomes.append(Outcome.NAK)  # a transient failure on the redelivery
            else:
                outcomes.append(Outcome.ACK)
                done.add(delivery.msg_id)
        if done == set(ids):
            stop.set()
        return outcomes

    await _consume_until_stopped(bus, "batch-consumer", handler, stop)
    # All seven were waiting, so they came as one batch; it failed, so all seven came again;
    # then only the one nak'ed message came a third time.
    assert batches[0] == [(msg_id, 1) for msg_id in [*ids, "gen_poison"]]
    later = sorted(entry for batch in batches[1:] for entry in batch)
    assert later == sorted([(msg_id, 2) for msg_id in [*ids, "gen_poison"]] + [("gen_2", 3)])
    # Acknowledged and terminated messages are not delivered again.
    await bus.publish(USAGE_RECORDED, b"new", "gen_new")
    assert await _collect(bus, "batch-consumer", {}, until=1) == ["gen_new"]


async def test_a_batch_handler_must_answer_every_delivery(bus: Bus) -> None:
    for msg_id in ("gen_a", "gen_b"):
        await bus.publish(USAGE_RECORDED, msg_id.encode(), msg_id)
    calls: list[list[str]] = []
    stop = asyncio.Event()

    async def handler(deliveries: Sequence[Delivery]) -> list[Outcome]:
        calls.append([d.msg_id for d in deliveries])
        if len(calls) == 1:
            return [Outcome.ACK]  # one outcome for two: treated as a failure, both come back
        if sorted(m for call in calls[1:] for m in call) == ["gen_a", "gen_b"]:
            stop.set()
        return [Outcome.ACK] * len(deliveries)

    await _consume_until_stopped(bus, "short-answers", handler, stop)
    assert sorted(calls[0]) == ["gen_a", "gen_b"]
    # Both came back once (together or, their redelivery delays ending apart, one by one).
    assert sorted(m for call in calls[1:] for m in call) == ["gen_a", "gen_b"]


async def test_lingering_gathers_trickling_messages_into_one_batch(bus: Bus) -> None:
    await bus.publish(USAGE_RECORDED, b"first", "gen_first")
    batches: list[list[str]] = []
    stop = asyncio.Event()
    trickle: list[asyncio.Task[None]] = []

    async def publish_slowly() -> None:
        for index in range(5):
            await bus.publish(USAGE_RECORDED, b"later", f"gen_later_{index}")
            await asyncio.sleep(0.01)

    async def handler(deliveries: Sequence[Delivery]) -> list[Outcome]:
        batches.append([d.msg_id for d in deliveries])
        if len(batches) == 1:
            # Arrives while the consumer lingers after this (not full) batch.
            trickle.append(asyncio.create_task(publish_slowly()))
        else:
            stop.set()
        return [Outcome.ACK] * len(deliveries)

    task = asyncio.create_task(
        bus.consume_batches(
            stream="TOLLGATE_USAGE",
            subject=USAGE_RECORDED,
            durable="lingering",
            handler=handler,
            stop=stop,
            linger_seconds=1.0,
        )
    )
    await asyncio.wait_for(stop.wait(), timeout=20)
    await asyncio.wait_for(task, timeout=5)  # a stop ends the linger at once
    await trickle[0]
    assert batches == [["gen_first"], [f"gen_later_{index}" for index in range(5)]]


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

    outbox.connect(bus)
    outbox.put(Fact(USAGE_RECORDED, "gen_c", b"C"))
    seen = await _collect(bus, "outbox-check", {}, until=3)
    assert sorted(seen) == ["gen_a", "gen_b", "gen_c"]
    await outbox.close()
    await asyncio.wait_for(relay, timeout=5)
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(table))).scalar_one() == 0
    await engine.dispose()
