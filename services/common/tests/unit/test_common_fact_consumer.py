"""The generic fact consumer's decisions: ack, dead-letter (poison, with its reason) or
redeliver (transient), one outcome per delivery of a batch, the metrics it counts them in, and
the age alert."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from functools import partial

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import OperationalError
from tollgate.events.v1.activity_pb2 import ActivityRecorded
from tollgate_common.bus import (
    ACTIVITY_RECORDED,
    Backoff,
    Delivery,
    Outcome,
    Poisoned,
    PoisonMessage,
    TransientError,
)
from tollgate_common.env_settings import SettingsError
from tollgate_common.fact_consumer import ACTIVITY_FACTS, DeliverySettings, FactConsumer
from tollgate_common.inbox import Stored
from tollgate_common.metrics import ConsumerMetrics
from tollgate_common.testing import consumer_metric


class Invalid(Exception):
    pass


class Store:
    """Stores event ids; ``results`` (when set) is what the database answers instead."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.results: list[Stored | None] | None = None
        self.fail = False

    async def store(self, records: list[str]) -> Sequence[Stored | None]:
        if self.fail:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        if self.results is not None:
            return self.results
        outcomes = [Stored.DUPLICATE if r in self.ids else Stored.NEW for r in records]
        self.ids.extend(r for r in records if r not in self.ids)
        return outcomes


def _event_id(fact: ActivityRecorded, received_at: datetime) -> str:
    if not fact.event_id:
        raise Invalid("no event id")
    return fact.event_id


def _delivery(event_id: str | None, msg_id: str = "m") -> Delivery:
    data = (
        b"\xff\xff" if event_id is None else ActivityRecorded(event_id=event_id).SerializeToString()
    )
    return Delivery(ACTIVITY_RECORDED, msg_id, data, num_delivered=1)


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def consumer(store: Store) -> FactConsumer[ActivityRecorded, str]:
    return FactConsumer(
        ACTIVITY_FACTS, durable="test-log", convert=_event_id, store=store.store, invalid=Invalid
    )


async def test_outcomes_follow_what_the_store_answers(
    store: Store, consumer: FactConsumer[ActivityRecorded, str]
) -> None:
    registry = CollectorRegistry()
    consumer.instrument(ConsumerMetrics(registry))
    batch = [_delivery("e1"), _delivery(None), _delivery(""), _delivery("e2"), _delivery("e1")]
    assert await consumer.handle_batch(batch) == [
        Outcome.ACK,
        Poisoned("undecodable ActivityRecorded"),
        Poisoned("invalid ActivityRecorded: no event id"),
        Outcome.ACK,
        Outcome.ACK,  # a duplicate is done
    ]
    assert store.ids == ["e1", "e2"]
    store.results = [Stored.REJECTED, None]
    assert await consumer.handle_batch([_delivery("e3"), _delivery("e4")]) == [
        Poisoned("rejected: its values can never be stored"),
        Outcome.NAK,
    ]

    count = partial(consumer_metric, registry, consumer)
    handled = partial(count, "tollgate_jetstream_messages_total")
    assert (handled(outcome="ack"), handled(outcome="term"), handled(outcome="nak")) == (3, 3, 1)
    # What the store answered, one per fact it was given (this one answers NEW for both e1 of
    # a batch; none for e4, whose write failed).
    stored = partial(count, "tollgate_jetstream_facts_stored_total")
    assert (stored(result="new"), stored(result="duplicate"), stored(result="rejected")) == (
        3,
        0,
        1,
    )
    assert count("tollgate_jetstream_batch_messages_count") == 2
    assert count("tollgate_jetstream_batch_messages_sum") == 7


async def test_a_database_failure_redelivers_all_but_the_poison(
    store: Store, consumer: FactConsumer[ActivityRecorded, str]
) -> None:
    store.fail = True
    assert await consumer.handle_batch([_delivery(None), _delivery("e1")]) == [
        Poisoned("undecodable ActivityRecorded"),
        Outcome.NAK,
    ]
    with pytest.raises(TransientError):
        await consumer.handle(_delivery("e1"))
    with pytest.raises(PoisonMessage):
        await consumer.handle(_delivery(None))


class FlakyBus:
    """Stands in for Bus.consume_batches: fails in the given ways, then stops the consumer."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.subscriptions: list[tuple[object, object, object]] = []

    async def consume_batches(self, *, stop: asyncio.Event, **where: object) -> None:
        self.subscriptions.append((where["stream"], where["subject"], where["durable"]))
        if self.failures:
            raise self.failures.pop(0)
        stop.set()


async def test_the_subscription_is_kept_alive(
    consumer: FactConsumer[ActivityRecorded, str],
) -> None:
    bus = FlakyBus([TimeoutError(), RuntimeError("connection closed")])
    await asyncio.wait_for(consumer.run(bus, asyncio.Event()), timeout=10)  # type: ignore[arg-type]
    assert bus.subscriptions == [("TOLLGATE_ACTIVITY", ACTIVITY_RECORDED, "test-log")] * 3


def test_the_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(1.0, 60.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 6, 7, 8, 1000)] == [1, 2, 4, 32, 60, 60, 60]


def test_delivery_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DeliverySettings().backoff() == Backoff(1.0, 60.0)
    assert DeliverySettings().age_alert_seconds == 300.0
    monkeypatch.setenv("TOLLGATE_FACT_RETRY_MAX_SECONDS", "0.5")
    monkeypatch.setenv("TOLLGATE_FACT_AGE_ALERT_SECONDS", "20")
    settings = DeliverySettings()
    assert (settings.backoff(), settings.age_alert_seconds) == (Backoff(0.5, 0.5), 20.0)


def test_the_batch_linger_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DeliverySettings().linger_seconds == 0.25
    monkeypatch.setenv("TOLLGATE_FACT_BATCH_LINGER_SECONDS", "0")
    assert DeliverySettings().linger_seconds == 0.0
    monkeypatch.setenv("TOLLGATE_FACT_BATCH_LINGER_SECONDS", "-1")
    with pytest.raises(SettingsError, match="TOLLGATE_FACT_BATCH_LINGER_SECONDS='-1'"):
        DeliverySettings()


def test_the_age_alert_is_logged_once_per_crossing(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    consumer = FactConsumer(
        ACTIVITY_FACTS,
        durable="test-log",
        convert=_event_id,
        store=store.store,
        invalid=Invalid,
        delivery=DeliverySettings(age_alert_seconds=60),
    )
    for age in (10.0, 61.0, 120.0, 600.0, 5.0, 0.0, 90.0):
        consumer._alert(age, 3)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2  # the first crossing, and the one after catching up
    assert "61s old (over 60s; 3 waiting)" in warnings[0]
