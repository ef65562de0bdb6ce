"""No fact is ever dropped, through the whole suite.

* Billing's database refuses every generation for longer than the old redelivery budget (more
  than 50 deliveries of each fact; the suite's backoff is capped at 0.5 s so that takes half a
  minute, not the real minutes): once it is back, every generation made meanwhile is charged
  exactly once; meanwhile the age of billing's oldest unacknowledged fact rose past the alert
  threshold (one WARNING) and it falls back to zero after.
* A fact no consumer can decode lands in the dead-letter stream, where ``tollgate facts
  dead-letters`` lists it; ``tollgate facts replay`` of a valid dead letter applies it once, and
  a copy of it arriving again is not charged twice.
* A usage fact whose finish reason and model are longer than billing keeps is charged, with
  them cut to fit, not refused.

The outage: a trigger on billing's ``generations`` table that calls a function SQLite does not
have, so every insert there fails at once (as a database that is down does). A held lock would
be truer to life, but each attempt would then wait out billing's 30 s busy timeout, and more than
50 deliveries would take half an hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from google.protobuf.message import DecodeError
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_cli.stack import Stack
from tollgate_common.bus import (
    CONSUMER_HEADER,
    DEAD_LETTER_PREFIX,
    ORIGINAL_ID_HEADER,
    REASON_HEADER,
    SUBJECT_HEADER,
    USAGE_RECORDED,
    Bus,
)
from tollgate_common.testing import free_port

from tests.support.api import credits, generation
from tests.support.billing import CATALOG, ask, billing_suite, charged_exactly, settled
from tests.support.cli import tollgate
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

D = Decimal
BILLING_USAGE = "billing-usage"
OLD_MAX_DELIVERIES = 50
ALERT_SECONDS = 10


@dataclass(frozen=True)
class Suite:
    stack: Stack
    metrics_url: str  # billing's


@pytest.fixture(scope="module")
def running(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    metrics = f"127.0.0.1:{free_port()}"
    env = {
        "TOLLGATE_BILLING_METRICS_ADDR": metrics,
        "TOLLGATE_FACT_RETRY_MAX_SECONDS": "0.5",
        "TOLLGATE_FACT_AGE_ALERT_SECONDS": str(ALERT_SECONDS),
    }
    with billing_suite(upstream, tmp_path_factory.mktemp("facts"), CATALOG, env) as stack:
        yield Suite(stack, f"http://{metrics}/metrics")


@pytest.fixture
def suite(running: Suite) -> Stack:
    return running.stack


def _metric(running: Suite, name: str, **labels: str) -> float:
    """A sample of billing's metrics (0 while it has none)."""
    text = httpx.get(running.metrics_url, timeout=5).text
    for line in text.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
            return float(match.group(2))
    return 0.0


def _naks(running: Suite) -> float:
    return _metric(
        running, "tollgate_jetstream_messages_total", consumer=BILLING_USAGE, outcome="nak"
    )


def _oldest(running: Suite) -> float:
    return _metric(
        running, "tollgate_jetstream_consumer_oldest_unacked_seconds", consumer=BILLING_USAGE
    )


def _billing_db(stack: Stack) -> sqlite3.Connection:
    return sqlite3.connect(stack.config.data_dir / "billing.db", timeout=30)


def _facts(stack: Stack, *args: str) -> Any:
    done = tollgate(stack, "facts", *args, "-o", "json")
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None


async def _publish(stack: Stack, subject: str, data: bytes, msg_id: str, **headers: str) -> None:
    bus = await Bus.connect(stack.nats_url, "suite-fact-delivery")
    try:
        await bus.publish(subject, data, msg_id, headers)
    finally:
        await bus.close()


async def _last_usage_fact(stack: Stack) -> UsageRecorded:
    """The newest usage fact on the stream that decodes (the router's, or one like it)."""
    bus = await Bus.connect(stack.nats_url, "suite-fact-delivery")
    try:
        seq = (await bus.js.stream_info("TOLLGATE_USAGE")).state.last_seq
        while True:
            message = await bus.js.get_msg("TOLLGATE_USAGE", seq=seq)
            with contextlib.suppress(DecodeError):
                return UsageRecorded.FromString(message.data or b"")
            seq -= 1
    finally:
        await bus.close()


async def _settled_consumer(stack: Stack) -> bool:
    bus = await Bus.connect(stack.nats_url, "suite-fact-delivery")
    try:
        backlog = await bus.backlog("TOLLGATE_USAGE", BILLING_USAGE)
    finally:
        await bus.close()
    return backlog.pending + backlog.ack_pending == 0


def _a_fact_like_the_last(stack: Stack, **changes: Any) -> UsageRecorded:
    """A new generation's usage fact for the suite's team (its ids taken from a real one)."""
    fact = UsageRecorded()
    fact.CopyFrom(asyncio.run(_last_usage_fact(stack)))
    fact.generation_id = f"gen_suite_{uuid.uuid4().hex}"
    fact.hold_id = ""
    for name, value in changes.items():
        setattr(fact, name, value)
    return fact


def test_an_outage_longer_than_the_old_budget_loses_no_generation(running: Suite) -> None:
    suite = running.stack
    start = D(settled(suite, D(credits(suite)["total_used"]))["total_used"])
    before = start + charged_exactly(suite, [ask(suite)])
    settled(suite, before)
    naks_before = _naks(running)
    with _billing_db(suite) as db:
        db.execute(
            "CREATE TRIGGER suite_outage BEFORE INSERT ON generations "
            "BEGIN SELECT suite_outage_unavailable(); END"
        )
    made = [ask(suite, f"during the outage {index}") for index in range(3)]
    # Every one of them is delivered, and refused, more often than the old limit allowed.
    eventually(lambda: _naks(running) - naks_before > len(made) * (OLD_MAX_DELIVERIES + 10), 240)
    assert all(generation(suite, completion.id) is None for completion in made)
    assert D(credits(suite)["total_used"]) == before
    eventually(lambda: _oldest(running) > ALERT_SECONDS, 60)
    with _billing_db(suite) as db:
        db.execute("DROP TRIGGER suite_outage")
    total = before + charged_exactly(suite, made)
    settled(suite, total)  # each charged once
    eventually(lambda: _oldest(running) == 0.0, 60)
    log = (suite.log_dir / "billing.log").read_text()
    assert log.count("the oldest unacknowledged UsageRecorded fact is") == 1
    assert D(credits(suite)["total_used"]) == total


def test_an_undecodable_fact_is_dead_lettered_and_a_valid_one_replays_once(
    suite: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOLLGATE_NATS_URL", suite.nats_url)  # what the CLI reads
    asyncio.run(_publish(suite, USAGE_RECORDED, b"\xff\xfe not protobuf", "gen_garbage"))

    def buried() -> list[dict[str, Any]] | None:
        """The garbage's dead letters once billing and activity have each buried it."""
        _code, rows = _facts(suite, "dead-letters")
        found = [row for row in rows or [] if row["msgId"] == "gen_garbage"]
        return found if len(found) == 2 else None

    letters = eventually(buried)
    assert {row["subject"] for row in letters} == {USAGE_RECORDED}
    assert BILLING_USAGE in {row["consumer"] for row in letters}
    assert all(row["reason"] == "undecodable UsageRecorded" and row["time"] for row in letters)

    # A valid fact an older release dead-lettered (the consumer's database refused it then).
    used = D(credits(suite)["total_used"])
    fact = _a_fact_like_the_last(suite, cost="0.25", market_cost="0.25")
    data = fact.SerializeToString()
    headers = {
        SUBJECT_HEADER: USAGE_RECORDED,
        ORIGINAL_ID_HEADER: fact.generation_id,
        CONSUMER_HEADER: BILLING_USAGE,
        REASON_HEADER: "rejected: its values can never be stored",
    }
    dead_subject = f"{DEAD_LETTER_PREFIX}.{USAGE_RECORDED}"
    for copy in ("first", "second"):  # two dead letters of the same fact
        asyncio.run(
            _publish(suite, dead_subject, data, f"old-{copy}-{fact.generation_id}", **headers)
        )
    _code, rows = _facts(suite, "dead-letters")
    seqs = [row["seq"] for row in rows if row["msgId"] == fact.generation_id]
    assert len(seqs) == 2

    code, replayed = _facts(suite, "replay", str(seqs[0]))
    assert (code, [row["result"] for row in replayed]) == (0, ["replayed"])
    record = eventually(lambda: generation(suite, fact.generation_id))
    assert D(str(record["total_cost"])) == D("0.25")
    settled(suite, used + D("0.25"))
    # The second copy goes out under the same message id: JetStream still remembers it, so it
    # is kept (and said so) rather than sent again.
    code, again = _facts(suite, "replay", str(seqs[1]))
    assert code == 1 and "duplicate window" in again[0]["result"]
    # Past that window it would go out; the consumer stores the generation once all the same.
    asyncio.run(_publish(suite, USAGE_RECORDED, data, f"late-copy-{fact.generation_id}"))
    eventually(lambda: asyncio.run(_settled_consumer(suite)))
    assert D(credits(suite)["total_used"]) == used + D("0.25")
    # A replayed dead letter is gone from the list; the others stay.
    _code, rows = _facts(suite, "dead-letters")
    assert [row["seq"] for row in rows if row["msgId"] == fact.generation_id] == [seqs[1]]


def test_an_over_long_finish_reason_is_charged_cut_to_fit(suite: Stack) -> None:
    used = settled(suite, D(credits(suite)["total_used"]))
    fact = _a_fact_like_the_last(
        suite, cost="0.125", market_cost="0.125", finish_reason="stop_" + "x" * 200
    )
    asyncio.run(_publish(suite, USAGE_RECORDED, fact.SerializeToString(), fact.generation_id))
    record = eventually(lambda: generation(suite, fact.generation_id))
    assert record["finish_reason"] == ("stop_" + "x" * 200)[:32]
    assert D(str(record["total_cost"])) == D("0.125")
    settled(suite, D(used["total_used"]) + D("0.125"))
