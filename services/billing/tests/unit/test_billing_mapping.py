"""UsageRecorded → Generation → protobuf: exact money, timestamps, ids."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_billing.convert import generation_to_proto
from tollgate_billing.errors import InvalidUsage
from tollgate_billing.generations.service import generation_from_fact, validate_generation

RECEIVED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _fact(**overrides: object) -> UsageRecorded:
    created = Timestamp()
    created.FromDatetime(datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC))
    values: dict[str, object] = {
        "generation_id": "gen_01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "team_id": "team_a",
        "project_id": "prj_1",
        "key_id": "key_1",
        "user_id": "user_1",
        "model": "openai/gpt-4o",
        "provider": "openai",
        "provider_model_id": "gpt-4o-2024-08-06",
        "credential_type": "system",
        "input_tokens": 100,
        "output_tokens": 50,
        "cached_input_tokens": 10,
        "cache_write_tokens": 5,
        "reasoning_tokens": 7,
        "cost": "0.0000123",
        "market_cost": "0.00001230",
        "price_version": "2026-01-01",
        "ttft_ms": 120,
        "latency_ms": 900,
        "streamed": True,
        "finish_reason": "stop",
        "status": "success",
        "created_at": created,
    }
    values.update(overrides)
    return UsageRecorded(**values)


def test_fact_maps_to_generation_with_exact_money() -> None:
    generation = generation_from_fact(_fact(), RECEIVED)
    assert generation.generation_id == "gen_01ARZ3NDEKTSV4RRFFQ69G5FAV"
    assert generation.team_id == "team_a"
    assert generation.cost == Decimal("0.0000123")
    assert isinstance(generation.cost, Decimal)
    assert generation.market_cost == Decimal("0.0000123")
    assert generation.created_at == datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert (generation.fact.cached_input_tokens, generation.fact.cache_write_tokens) == (10, 5)
    assert generation.fact.user_id == "user_1"
    assert generation.fact.provider_model_id == "gpt-4o-2024-08-06"


def test_fact_without_created_at_takes_the_receipt_time() -> None:
    fact = _fact()
    fact.ClearField("created_at")
    assert generation_from_fact(fact, RECEIVED).created_at == RECEIVED


def test_empty_amounts_are_zero() -> None:
    generation = generation_from_fact(_fact(cost="", market_cost=""), RECEIVED)
    assert generation.cost == Decimal(0)
    assert generation.market_cost == Decimal(0)


@pytest.mark.parametrize("cost", ["abc", "NaN", "Infinity", "1e"])
def test_amount_that_is_not_a_decimal_is_invalid(cost: str) -> None:
    with pytest.raises(InvalidUsage):
        generation_from_fact(_fact(cost=cost), RECEIVED)


def test_generation_to_proto_writes_money_as_plain_decimal_strings() -> None:
    generation = generation_from_fact(
        _fact(cost="0.000012300000000000", market_cost="2.5E-7"), RECEIVED
    )
    message = generation_to_proto(generation)
    assert message.cost == "0.0000123"
    assert message.market_cost == "0.00000025"
    assert message.created_at.ToDatetime(UTC) == generation.created_at
    assert message.id == generation.generation_id
    assert message.price_version == "2026-01-01"
    assert message.streamed is True
    assert (message.input_tokens, message.output_tokens, message.reasoning_tokens) == (100, 50, 7)


def test_zero_cost_is_written_as_zero() -> None:
    message = generation_to_proto(generation_from_fact(_fact(cost="0.000"), RECEIVED))
    assert message.cost == "0"


def test_the_end_user_and_tags_are_kept_each_tag_once() -> None:
    fact = _fact(end_user="alice", tags=["beta", "search", "beta"])
    generation = generation_from_fact(fact, RECEIVED)
    assert (generation.fact.end_user, list(generation.fact.tags)) == ("alice", ["beta", "search"])
    assert list(generation_from_fact(_fact(), RECEIVED).fact.tags) == []


def test_descriptive_fields_too_long_are_cut_to_fit_not_refused() -> None:
    fact = _fact(
        finish_reason="content_filter_" + "x" * 100,
        provider_model_id="m" * 500,
        model="openai/" + "g" * 300,
        end_user="bob\x00" + "b" * 300,
        tags=[f"tag{index}" for index in range(60)] + ["t" * 300],
    )
    generation = generation_from_fact(fact, RECEIVED)
    validate_generation(generation)  # storable as it is now
    stored = generation.fact
    assert stored.finish_reason == ("content_filter_" + "x" * 100)[:32]
    assert (len(stored.provider_model_id), len(stored.model), len(stored.end_user)) == (
        200,
        200,
        200,
    )
    assert stored.end_user.startswith("bobbbb")
    assert list(stored.tags) == [f"tag{index}" for index in range(50)]
    # What is charged, and for whom, is untouched.
    assert (generation.generation_id, generation.team_id, generation.cost) == (
        "gen_01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "team_a",
        Decimal("0.0000123"),
    )


@pytest.mark.parametrize(
    "field", [{"team_id": ""}, {"generation_id": ""}, {"project_id": "p" * 101}]
)
def test_ids_that_cannot_be_stored_still_refuse_the_fact(field: dict[str, str]) -> None:
    with pytest.raises(InvalidUsage):
        validate_generation(generation_from_fact(_fact(**field), RECEIVED))
