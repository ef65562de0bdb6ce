"""UsageRecorded → RequestLogEntry → protobuf, and the rules applied on the way."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.exc import DataError, OperationalError
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_activity.convert import entry_to_proto
from tollgate_activity.pagination import Cursor
from tollgate_activity.request_log.consumer import UsageConsumer
from tollgate_activity.request_log.service import (
    RequestFilter,
    RequestLogEntry,
    RequestLogService,
    entry_from_fact,
    validate_entry,
)
from tollgate_common.bus import Delivery, Outcome, PoisonMessage, TransientError
from tollgate_common.errors import InvalidArgument
from tollgate_common.inbox import Stored

RECEIVED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _fact(**overrides: object) -> UsageRecorded:
    created = Timestamp()
    created.FromDatetime(datetime(2026, 1, 1, 12, 0, 0, 500000, tzinfo=UTC))
    values: dict[str, object] = {
        "generation_id": "gen_1",
        "team_id": "team_a",
        "project_id": "prj_1",
        "key_id": "key_1",
        "model": "openai/gpt-4o",
        "provider": "openai",
        "credential_type": "byok",
        "input_tokens": 10,
        "output_tokens": 20,
        "cached_input_tokens": 3,
        "reasoning_tokens": 4,
        "cost": "0",
        "market_cost": "0.0000123",
        "ttft_ms": 50,
        "latency_ms": 400,
        "streamed": False,
        "finish_reason": "length",
        "status": "success",
        "created_at": created,
        "app_title": "My App",
        "app_referer": "https://example.com/",
        "attempts": 2,
    }
    values.update(overrides)
    return UsageRecorded(**values)


class MemoryLog:
    def __init__(self) -> None:
        self.rows: dict[str, RequestLogEntry] = {}
        self.fail_with: Exception | None = None

    async def record(self, entry: RequestLogEntry) -> bool:
        if self.fail_with is not None:
            raise self.fail_with
        return self.rows.setdefault(entry.generation_id, entry) is entry

    async def record_many(self, entries: Sequence[RequestLogEntry]) -> list[Stored]:
        if isinstance(self.fail_with, DataError):
            # What the repository reports for rows the database refuses.
            return [Stored.REJECTED] * len(entries)
        return [Stored.NEW if await self.record(e) else Stored.DUPLICATE for e in entries]

    async def list_page(
        self, team_id: str, request_filter: RequestFilter, after: Cursor | None, limit: int
    ) -> list[RequestLogEntry]:
        return [e for e in self.rows.values() if e.team_id == team_id][:limit]


def _service(log: MemoryLog) -> RequestLogService:
    return RequestLogService(log)


def _delivery(data: bytes, msg_id: str = "gen_1") -> Delivery:
    return Delivery("tollgate.usage.recorded.v1", msg_id, data, num_delivered=1)


def test_fact_maps_to_entry_and_back_to_proto() -> None:
    entry = entry_from_fact(_fact(), RECEIVED)
    assert entry.market_cost == Decimal("0.0000123")
    assert entry.created_at == datetime(2026, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)
    message = entry_to_proto(entry)
    assert message.cost == "0"
    assert message.market_cost == "0.0000123"
    assert message.created_at.ToDatetime(UTC) == entry.created_at
    assert (message.app_title, message.app_referer, message.attempts) == (
        "My App",
        "https://example.com/",
        2,
    )
    assert (message.credential_type, message.finish_reason, message.streamed) == (
        "byok",
        "length",
        False,
    )
    assert (message.cached_input_tokens, message.reasoning_tokens) == (3, 4)


def test_fact_without_created_at_takes_the_receipt_time() -> None:
    fact = _fact()
    fact.ClearField("created_at")
    assert entry_from_fact(fact, RECEIVED).created_at == RECEIVED


def test_app_attribution_is_clipped_not_refused() -> None:
    entry = validate_entry(entry_from_fact(_fact(app_title="t" * 5000), RECEIVED))
    assert len(entry.fact.app_title) == 300
    entry = validate_entry(entry_from_fact(_fact(app_referer="https://a\x00b/"), RECEIVED))
    assert entry.fact.app_referer == "https://ab/"


@pytest.mark.parametrize(
    "overrides",
    [
        {"generation_id": ""},
        {"team_id": ""},
        {"cost": "free"},
        {"cost": "-0.01"},
        {"attempts": -1},
        {"provider": "p" * 201},
        {"model": "open\x00ai/gpt-4o"},
    ],
)
async def test_an_invalid_fact_is_poison(overrides: dict[str, object]) -> None:
    store = MemoryLog()
    with pytest.raises(PoisonMessage):
        await UsageConsumer(_service(store)).handle(
            _delivery(_fact(**overrides).SerializeToString())
        )
    assert store.rows == {}


async def test_consumer_outcomes() -> None:
    store = MemoryLog()
    consumer = UsageConsumer(_service(store))
    with pytest.raises(PoisonMessage):
        await consumer.handle(_delivery(b"\xff\xff\xff"))
    await consumer.handle(_delivery(_fact().SerializeToString()))
    await consumer.handle(_delivery(_fact(cost="5").SerializeToString(), msg_id="other"))
    assert list(store.rows) == ["gen_1"]
    assert store.rows["gen_1"].cost == Decimal(0)
    store.fail_with = OperationalError("INSERT", {}, Exception("database is locked"))
    with pytest.raises(TransientError):
        await consumer.handle(_delivery(_fact(generation_id="gen_2").SerializeToString()))
    store.fail_with = DataError("INSERT", {}, Exception("value out of range"))
    with pytest.raises(PoisonMessage):
        await consumer.handle(_delivery(_fact(generation_id="gen_3").SerializeToString()))


async def test_list_requests_needs_a_team() -> None:
    with pytest.raises(InvalidArgument) as invalid:
        await _service(MemoryLog()).list_requests("")
    assert invalid.value.metadata == {"param": "team_id"}


def _batch_delivery(generation_id: str, **overrides: object) -> Delivery:
    fact = _fact(generation_id=generation_id, **overrides)
    return _delivery(fact.SerializeToString(), msg_id=generation_id)


async def test_a_batch_logs_each_fact_once_whatever_the_order() -> None:
    store = MemoryLog()
    consumer = UsageConsumer(_service(store))
    batch = [
        _batch_delivery("gen_1"),
        _batch_delivery("gen_2"),
        _batch_delivery("gen_1", cost="5"),  # a repeat within the batch
        _batch_delivery("gen_3"),
    ]
    assert await consumer.handle_batch(batch) == [Outcome.ACK] * 4
    assert sorted(store.rows) == ["gen_1", "gen_2", "gen_3"]
    assert store.rows["gen_1"].cost == Decimal(0)
    # Redelivered, in another order, with one new fact: only that one is added.
    again = [batch[3], _batch_delivery("gen_4"), batch[0], batch[2], batch[1]]
    assert await consumer.handle_batch(again) == [Outcome.ACK] * 5
    assert sorted(store.rows) == ["gen_1", "gen_2", "gen_3", "gen_4"]


async def test_poison_in_a_batch_terminates_only_itself() -> None:
    store = MemoryLog()
    consumer = UsageConsumer(_service(store))
    batch = [
        _batch_delivery("gen_1"),
        _delivery(b"\xff\xff\xff", msg_id="garbage"),
        _batch_delivery("gen_free", cost="free"),
        _batch_delivery("gen_2"),
        _batch_delivery("gen_long", provider="p" * 201),
    ]
    outcomes = await consumer.handle_batch(batch)
    assert [o.value for o in outcomes] == ["ack", "term", "term", "ack", "term"]
    assert sorted(store.rows) == ["gen_1", "gen_2"]
    # The database failing redelivers the valid facts; poison is terminated regardless.
    store.fail_with = OperationalError("INSERT", {}, Exception("database is locked"))
    assert [o.value for o in await consumer.handle_batch(batch[:2])] == ["nak", "term"]
