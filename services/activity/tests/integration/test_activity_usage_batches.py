"""The ``activity-usage`` consumer against a real nats-server and a real database: a fetched
batch is logged in one transaction, a duplicate inside it or of an earlier batch is logged
and counted in the rollups once, and poison in it is dead-lettered without holding up or
losing the others."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_activity.models import request_log, request_rollup
from tollgate_activity.request_log.consumer import UsageConsumer
from tollgate_activity.request_log.repository import RequestLogRepository
from tollgate_activity.request_log.service import RequestLogService
from tollgate_activity.rollups.buckets import TEAM_SCOPE, Resolution
from tollgate_common.bus import USAGE_RECORDED, Bus
from tollgate_common.metrics import ConsumerMetrics
from tollgate_common.testing import consume_all, consumer_metric, dead_letter_reasons, jetstream


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[Bus]:
    async with jetstream(tmp_path / "js") as connected:
        yield connected


def _fact(generation_id: str, **changes: str) -> bytes:
    fact = UsageRecorded(
        generation_id=generation_id,
        team_id="team_a",
        project_id="prj_1",
        model="openai/gpt-4o",
        provider="openai",
        status="success",
        input_tokens=10,
        output_tokens=5,
        cost="0.25",
        market_cost="0.25",
    )
    for name, value in changes.items():
        setattr(fact, name, value)
    return fact.SerializeToString()


async def test_a_batch_with_duplicates_and_poison_logs_each_request_once(
    engine: AsyncEngine, bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    registry = CollectorRegistry()
    consumer = UsageConsumer(RequestLogService(RequestLogRepository(engine)))
    consumer.instrument(ConsumerMetrics(registry))
    await bus.publish(USAGE_RECORDED, _fact("gen_0"), "gen_0")
    await consume_all(consumer, bus)

    # One batch: two new requests, gen_1 twice and gen_0 again (under other message ids, as
    # a replayed or re-published fact comes), and two poison facts among them.
    batch = [
        ("gen_1", _fact("gen_1")),
        ("junk", b"\xff not a fact"),
        ("gen_0-again", _fact("gen_0")),
        ("gen_bad_cost", _fact("gen_bad_cost", cost="a lot")),
        ("gen_1-again", _fact("gen_1")),
        ("gen_2", _fact("gen_2")),
    ]
    for msg_id, payload in batch:
        await bus.publish(USAGE_RECORDED, payload, msg_id)
    await consume_all(consumer, bus)

    team_day = (
        (request_rollup.c.team_id == "team_a")
        & (request_rollup.c.scope == TEAM_SCOPE)
        & (request_rollup.c.resolution == Resolution.DAY.value)
    )
    async with engine.connect() as conn:
        ids = sorted((await conn.execute(select(request_log.c.generation_id))).scalars())
        counted = (
            await conn.execute(select(func.sum(request_rollup.c.requests)).where(team_day))
        ).scalar()
    assert ids == ["gen_0", "gen_1", "gen_2"]
    assert counted == 3

    assert await dead_letter_reasons(bus) == ["invalid UsageRecorded", "undecodable UsageRecorded"]
    # No INFO line per fact or per batch: only the poison is logged (ERROR, with its reason).
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.INFO] == []
    count = partial(consumer_metric, registry, consumer)
    backlog = await bus.backlog("TOLLGATE_USAGE", "activity-usage")
    assert backlog.pending + backlog.ack_pending == 0

    assert count("tollgate_jetstream_facts_stored_total", result="new") == 3
    assert count("tollgate_jetstream_facts_stored_total", result="duplicate") == 2
    assert count("tollgate_jetstream_messages_total", outcome="ack") == 5
    assert count("tollgate_jetstream_messages_total", outcome="term") == 2
    assert count("tollgate_jetstream_batch_messages_count") == 2  # gen_0, the 6
