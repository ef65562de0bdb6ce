"""The usage consumer's decisions: ack, terminate (poison) or redeliver (transient)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import grpc
import pytest
from sqlalchemy.exc import DataError, OperationalError
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_billing.errors import GenerationNotFound
from tollgate_billing.generations.consumer import UsageConsumer, generation_from_fact
from tollgate_billing.generations.service import Generation, GenerationService
from tollgate_common.bus import Delivery, Outcome, Poisoned, PoisonMessage, TransientError
from tollgate_common.errors import InvalidArgument
from tollgate_common.inbox import Stored


class MemoryStore:
    """An in-memory GenerationStore that can be told to fail."""

    def __init__(self) -> None:
        self.rows: dict[str, Generation] = {}
        self.fail_with: Exception | None = None

    async def record(self, generation: Generation) -> bool:
        if self.fail_with is not None:
            raise self.fail_with
        if generation.generation_id in self.rows:
            return False
        self.rows[generation.generation_id] = generation
        return True

    async def record_many(self, batch: Sequence[Generation]) -> list[Stored]:
        if isinstance(self.fail_with, DataError):
            # What the repository reports for rows the database refuses.
            return [Stored.REJECTED] * len(batch)
        return [Stored.NEW if await self.record(g) else Stored.DUPLICATE for g in batch]

    async def get(self, team_id: str, generation_id: str) -> Generation | None:
        found = self.rows.get(generation_id)
        return found if found is not None and found.team_id == team_id else None


def _delivery(fact: UsageRecorded | bytes, msg_id: str = "gen_1") -> Delivery:
    data = fact if isinstance(fact, bytes) else fact.SerializeToString()
    return Delivery(subject="tollgate.usage.recorded.v1", msg_id=msg_id, data=data, num_delivered=1)


def _fact(**overrides: object) -> UsageRecorded:
    values: dict[str, object] = {
        "generation_id": "gen_1",
        "team_id": "team_a",
        "model": "openai/gpt-4o",
        "provider": "openai",
        "cost": "0.0000123",
        "market_cost": "0.0000123",
    }
    values.update(overrides)
    return UsageRecorded(**values)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def consumer(store: MemoryStore) -> UsageConsumer:
    return UsageConsumer(GenerationService(store))


async def test_a_fact_is_recorded_once(store: MemoryStore, consumer: UsageConsumer) -> None:
    await consumer.handle(_delivery(_fact()))
    await consumer.handle(_delivery(_fact(cost="9")))
    assert list(store.rows) == ["gen_1"]
    assert store.rows["gen_1"].cost == Decimal("0.0000123")


async def test_undecodable_payload_is_poison(consumer: UsageConsumer) -> None:
    with pytest.raises(PoisonMessage):
        await consumer.handle(_delivery(b"\xff\xff\xff\xff"))


@pytest.mark.parametrize(
    "overrides",
    [
        {"generation_id": ""},
        {"team_id": ""},
        {"cost": "twelve"},
        {"market_cost": "-1"},
        {"input_tokens": -1},
        {"project_id": "p" * 101},
        {"key_id": "key\x00"},
        {"credential_type": "s" * 33},
        {"cost": "1" + "0" * 20},
    ],
)
async def test_invalid_fact_is_poison(
    store: MemoryStore, consumer: UsageConsumer, overrides: dict[str, object]
) -> None:
    with pytest.raises(PoisonMessage):
        await consumer.handle(_delivery(_fact(**overrides)))
    assert store.rows == {}


@pytest.mark.parametrize(
    "overrides",
    [{"model": "m" * 201}, {"provider": "open\x00ai"}, {"finish_reason": "stop" * 20}],
)
async def test_a_fact_with_an_odd_descriptive_field_is_recorded_and_charged(
    store: MemoryStore, consumer: UsageConsumer, overrides: dict[str, object]
) -> None:
    await consumer.handle(_delivery(_fact(**overrides)))
    assert store.rows["gen_1"].cost == Decimal("0.0000123")


async def test_database_failure_is_transient(store: MemoryStore, consumer: UsageConsumer) -> None:
    store.fail_with = OperationalError("INSERT", {}, Exception("database is locked"))
    with pytest.raises(TransientError):
        await consumer.handle(_delivery(_fact()))


async def test_values_the_database_refuses_are_poison(
    store: MemoryStore, consumer: UsageConsumer
) -> None:
    store.fail_with = DataError("INSERT", {}, Exception("value too long"))
    with pytest.raises(PoisonMessage):
        await consumer.handle(_delivery(_fact()))


async def test_idempotency_key_is_the_generation_id(
    store: MemoryStore, consumer: UsageConsumer
) -> None:
    await consumer.handle(_delivery(_fact(), msg_id="gen_1"))
    await consumer.handle(_delivery(_fact(), msg_id="something-else"))
    assert len(store.rows) == 1


async def test_get_generation_is_scoped_to_the_team(store: MemoryStore) -> None:
    service = GenerationService(store)
    generation = generation_from_fact(_fact(cost="0.01"), datetime.now(UTC))
    assert await service.record_usage(generation)
    assert not await service.record_usage(replace(generation, cost=Decimal(1)))
    assert (await service.get_generation("team_a", "gen_1")).cost == Decimal("0.01")
    with pytest.raises(GenerationNotFound) as missing:
        await service.get_generation("team_b", "gen_1")
    assert missing.value.code == grpc.StatusCode.NOT_FOUND
    assert missing.value.reason == "GENERATION_NOT_FOUND"


@pytest.mark.parametrize(
    ("team_id", "generation_id", "param"),
    [("", "gen_1", "team_id"), ("team_a", "", "generation_id")],
)
async def test_empty_ids_are_invalid(
    store: MemoryStore, team_id: str, generation_id: str, param: str
) -> None:
    with pytest.raises(InvalidArgument) as invalid:
        await GenerationService(store).get_generation(team_id, generation_id)
    assert invalid.value.metadata == {"param": param}


class FlakyBus:
    """Stands in for Bus.consume_batches: fails in the given ways, then stops the consumer."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    async def consume_batches(self, *, stop: asyncio.Event, **_: object) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        stop.set()


async def test_the_consumer_resubscribes_after_a_failure(consumer: UsageConsumer) -> None:
    bus = FlakyBus([TimeoutError(), RuntimeError("connection closed")])
    stop = asyncio.Event()
    await asyncio.wait_for(consumer.run(bus, stop), timeout=10)  # type: ignore[arg-type]
    assert bus.calls == 3


async def test_a_batch_records_each_fact_once(store: MemoryStore, consumer: UsageConsumer) -> None:
    batch = [
        _delivery(_fact(generation_id="gen_1"), "gen_1"),
        _delivery(_fact(generation_id="gen_2"), "gen_2"),
        _delivery(_fact(generation_id="gen_1", cost="9"), "gen_1"),  # a repeat in the batch
    ]
    assert await consumer.handle_batch(batch) == [Outcome.ACK] * 3
    assert sorted(store.rows) == ["gen_1", "gen_2"]
    assert store.rows["gen_1"].cost == Decimal("0.0000123")
    # The whole batch redelivered: nothing changes, everything is acknowledged.
    assert await consumer.handle_batch(batch[::-1]) == [Outcome.ACK] * 3
    assert sorted(store.rows) == ["gen_1", "gen_2"]


async def test_poison_in_a_batch_terminates_only_itself(
    store: MemoryStore, consumer: UsageConsumer
) -> None:
    batch = [
        _delivery(_fact(generation_id="gen_1"), "gen_1"),
        _delivery(b"\xff\xff\xff\xff", "garbage"),
        _delivery(_fact(generation_id="gen_bad", cost="twelve"), "gen_bad"),
        _delivery(_fact(generation_id="gen_neg", input_tokens=-1), "gen_neg"),
        _delivery(_fact(generation_id="gen_2"), "gen_2"),
    ]
    assert await consumer.handle_batch(batch) == [
        Outcome.ACK,
        Poisoned("undecodable UsageRecorded"),
        Poisoned("invalid UsageRecorded: not a decimal amount: 'twelve'"),
        Poisoned("rejected: its values can never be stored"),
        Outcome.ACK,
    ]
    assert sorted(store.rows) == ["gen_1", "gen_2"]


async def test_a_database_failure_redelivers_the_batch_but_not_its_poison(
    store: MemoryStore, consumer: UsageConsumer
) -> None:
    store.fail_with = OperationalError("INSERT", {}, Exception("database is locked"))
    batch = [_delivery(b"\xff", "garbage"), _delivery(_fact(), "gen_1")]
    assert await consumer.handle_batch(batch) == [
        Poisoned("undecodable UsageRecorded"),
        Outcome.NAK,
    ]
