"""The ``billing-usage`` consumer against a real nats-server and a real database: a fetched
batch is applied in one transaction, a duplicate inside it or of an earlier batch is charged
once, and poison in it is dead-lettered without holding up or losing the others."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_billing.generations.consumer import UsageConsumer
from tollgate_billing.generations.repository import GenerationRepository
from tollgate_billing.generations.service import GenerationService
from tollgate_billing.ledger.repository import LedgerRepository
from tollgate_billing.ledger.service import CreditsService, LedgerGenerationStore
from tollgate_billing.models import generations, ledger_entries
from tollgate_common.bus import USAGE_RECORDED, Bus
from tollgate_common.metrics import ConsumerMetrics
from tollgate_common.outbox import Fact
from tollgate_common.testing import consume_all, consumer_metric, dead_letter_reasons, jetstream

COST = Decimal("0.25")


class _Facts:
    def put(self, fact: Fact) -> None:
        pass


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[Bus]:
    async with jetstream(tmp_path / "js") as connected:
        yield connected


def _fact(generation_id: str, **changes: str) -> bytes:
    values = {
        "generation_id": generation_id,
        "team_id": "team_a",
        "project_id": "prj_1",
        "model": "openai/gpt-4o",
        "provider": "openai",
        "credential_type": "system",
        "status": "success",
        "cost": str(COST),
        "market_cost": str(COST),
        **changes,
    }
    return UsageRecorded(**values).SerializeToString()  # type: ignore[arg-type]


def _consumer(engine: AsyncEngine, registry: CollectorRegistry) -> UsageConsumer:
    credits = CreditsService(LedgerRepository(engine), _Facts())
    store = LedgerGenerationStore(credits, GenerationRepository(engine))
    consumer = UsageConsumer(GenerationService(store))
    consumer.instrument(ConsumerMetrics(registry))
    return consumer


async def test_a_batch_with_duplicates_and_poison_charges_each_generation_once(
    engine: AsyncEngine, bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    registry = CollectorRegistry()
    consumer = _consumer(engine, registry)
    # An earlier batch: gen_0 is charged.
    await bus.publish(USAGE_RECORDED, _fact("gen_0"), "gen_0")
    await consume_all(consumer, bus)

    # One batch (published before the consumer fetches): two new generations, gen_1 twice
    # and gen_0 again (each under another message id, as a replayed or re-published fact
    # would come), and three poison facts among them.
    batch = [
        ("gen_1", _fact("gen_1")),
        ("junk", b"\xff not a fact"),
        ("gen_0-again", _fact("gen_0")),
        ("gen_bad_cost", _fact("gen_bad_cost", cost="a lot")),
        ("gen_1-again", _fact("gen_1")),
        ("gen_no_team", _fact("gen_no_team", team_id="")),
        ("gen_2", _fact("gen_2")),
    ]
    for msg_id, payload in batch:
        await bus.publish(USAGE_RECORDED, payload, msg_id)
    await consume_all(consumer, bus)

    async with engine.connect() as conn:
        ids = sorted((await conn.execute(select(generations.c.id))).scalars())
        debits = list(
            (
                await conn.execute(
                    select(ledger_entries.c.amount).where(ledger_entries.c.kind == "usage")
                )
            ).scalars()
        )
    assert ids == ["gen_0", "gen_1", "gen_2"]
    assert sorted(debits) == [-COST] * 3
    account = await LedgerRepository(engine).load("team_a")
    assert account is not None and account.total_used == 3 * COST

    # The poison is kept as dead letters, each with its reason; nothing waits for a redelivery.
    assert await dead_letter_reasons(bus) == [
        "invalid UsageRecorded",
        "rejected",
        "undecodable UsageRecorded",
    ]
    # No INFO line per fact or per batch: only the poison is logged (ERROR, with its reason).
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.INFO] == []
    count = partial(consumer_metric, registry, consumer)
    backlog = await bus.backlog("TOLLGATE_USAGE", "billing-usage")
    assert backlog.pending + backlog.ack_pending == 0

    # What happened is counted in the metrics (the consumer logs no line per batch).
    assert count("tollgate_jetstream_facts_stored_total", result="new") == 3
    assert count("tollgate_jetstream_facts_stored_total", result="duplicate") == 2
    assert count("tollgate_jetstream_facts_stored_total", result="rejected") == 1
    assert count("tollgate_jetstream_messages_total", outcome="ack") == 5
    assert count("tollgate_jetstream_messages_total", outcome="term") == 3
    assert count("tollgate_jetstream_batch_messages_count") == 2  # gen_0, the 7
    assert count("tollgate_jetstream_batch_messages_sum") == 8
