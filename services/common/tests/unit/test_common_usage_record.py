"""The usage record: fact ⇄ row derived from a table's columns, replies by field name, checks of
the stored columns."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import JSON, Column, MetaData, String, Table
from tollgate.billing.v1.billing_pb2 import Generation
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_common.db_types import Money, UtcDateTime
from tollgate_common.usage_record import (
    USAGE_COLUMN,
    Answer,
    UsageTable,
    usage_column,
    usage_record,
)

RECEIVED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TABLE = Table(
    "generations",
    MetaData(),
    Column("id", String(10), primary_key=True),
    Column("team_id", String(10)),
    Column("tags", JSON),
    Column("cost", Money),
    Column("created_at", UtcDateTime),
    usage_column(),
)
ROWS = UsageTable(TABLE, {"id": "generation_id"})


def _fact(**values: object) -> UsageRecorded:
    base: dict[str, object] = {
        "generation_id": "gen_1",
        "team_id": "team_a",
        "cost": "0.00012300",
        "market_cost": "2.5E-7",
        "input_tokens": 3,
        "tags": ["a", "b"],
    }
    return UsageRecorded(**{**base, **values})


def test_the_record_writes_its_values_into_its_fact() -> None:
    record = usage_record(_fact(), RECEIVED, cost=Decimal(0), model="m")
    assert (record.cost, record.market_cost, record.created_at) == (
        Decimal(0),
        Decimal("2.5E-7"),
        RECEIVED,
    )
    assert (record.fact.cost, record.fact.market_cost, record.fact.model) == (
        "0",
        "0.00000025",
        "m",
    )
    assert record.fact.created_at.ToDatetime(UTC) == RECEIVED


def test_a_row_holds_its_columns_and_the_whole_fact() -> None:
    record = usage_record(_fact(), RECEIVED)
    row = ROWS.row(record)
    assert row == {
        "id": "gen_1",
        "team_id": "team_a",
        "tags": ["a", "b"],
        "cost": Decimal("0.000123"),
        "created_at": RECEIVED,
        USAGE_COLUMN: record.fact.SerializeToString(),
    }
    assert ROWS.record(row) == record


def test_a_row_without_the_fact_is_read_from_its_columns() -> None:
    row = {"id": "gen_1", "team_id": "team_a", "tags": ["a"], "cost": "0.10", "input_tokens": 4}
    row |= {"created_at": RECEIVED, "streamed": 1, USAGE_COLUMN: None, "gone": "x"}
    fact = ROWS.fact(row)
    assert (fact.generation_id, fact.cost, fact.input_tokens, fact.streamed) == (
        "gen_1",
        "0.1",
        4,
        True,
    )
    assert list(fact.tags) == ["a"]


def test_a_reply_takes_each_field_of_the_fact_by_name() -> None:
    record = usage_record(_fact(model="m", ttft_ms=5), RECEIVED)
    reply = Answer(Generation, {"id": "generation_id"})(record)
    assert (reply.id, reply.model, reply.ttft_ms, reply.cost) == ("gen_1", "m", 5, "0.000123")
    assert reply.created_at.ToDatetime(UTC) == RECEIVED


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"team_id": ""}, "team_id is empty"),
        ({"team_id": "t" * 11}, "team_id is longer than 10 characters"),
        ({"generation_id": "a\x00b"}, "generation_id contains a NUL character"),
        ({"images": -1}, "images is negative"),
        ({"cost": "1" + "0" * 20}, "cost is out of range"),
    ],
)
def test_what_could_never_be_stored_is_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ROWS.check(usage_record(_fact(**values), RECEIVED))
