"""The usage fact: every field taken, by name, from the record, its caller and its counts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_common.bus import USAGE_RECORDED
from tollgate_router.catalog.pricing import TokenUsage
from tollgate_router.domain import Caller
from tollgate_router.usage import UsageRecord, usage_fact

CREATED = datetime(2026, 5, 1, 10, 30, 0, 123456, tzinfo=UTC)


def test_the_fact_carries_every_value_of_the_record() -> None:
    caller = Caller(
        "team_a", "prj_1", "key_1", "user_1", "req_1", "App", "https://a/", "bob", ("x",)
    )
    usage = TokenUsage(100, 50, 10, 5, 7, 2)
    record = UsageRecord(
        generation_id="gen_1",
        caller=caller,
        model="openai/gpt-4o",
        provider="openai",
        provider_model_id="gpt-4o-2024-08-06",
        credential_type="system",
        usage=usage,
        cost=Decimal("0.00012300"),
        market_cost=Decimal("2.5E-7"),
        price_version="2026-01-01",
        ttft_ms=120,
        latency_ms=900,
        streamed=True,
        finish_reason="stop",
        status="success",
        created_at=CREATED,
        attempts=2,
        hold_id="lease_1",
    )
    created = Timestamp()
    created.FromDatetime(CREATED)
    expected = UsageRecorded(
        generation_id="gen_1",
        team_id="team_a",
        project_id="prj_1",
        key_id="key_1",
        user_id="user_1",
        request_id="req_1",
        model="openai/gpt-4o",
        provider="openai",
        provider_model_id="gpt-4o-2024-08-06",
        credential_type="system",
        input_tokens=100,
        output_tokens=50,
        cached_input_tokens=10,
        cache_write_tokens=5,
        reasoning_tokens=7,
        cost="0.000123",
        market_cost="0.00000025",
        price_version="2026-01-01",
        ttft_ms=120,
        latency_ms=900,
        streamed=True,
        finish_reason="stop",
        status="success",
        created_at=created,
        app_title="App",
        app_referer="https://a/",
        attempts=2,
        images=2,
        hold_id="lease_1",
        end_user="bob",
        tags=["x"],
    )
    fact = usage_fact(record, (("traceparent", "00-x"),))
    assert (fact.subject, fact.msg_id, fact.headers) == (
        USAGE_RECORDED,
        "gen_1",
        (("traceparent", "00-x"),),
    )
    assert fact.payload == expected.SerializeToString()


def test_a_fact_read_back_has_every_value_and_defaults_for_the_empty_ones() -> None:
    """No tags, no hold, a failed generation: what billing and activity parse has every field,
    the empty ones at the fact's defaults (an empty list is no field on the wire)."""
    record = UsageRecord(
        generation_id="gen_2",
        caller=Caller(team_id="team_a", project_id="prj_1", key_id="key_1"),
        model="openai/gpt-4o",
        provider="openai",
        provider_model_id="gpt-4o",
        credential_type="byok",
        usage=TokenUsage(input_tokens=15),
        cost=Decimal(0),
        market_cost=Decimal("0.0000375"),
        price_version="v",
        ttft_ms=0,
        latency_ms=31,
        streamed=False,
        finish_reason="",
        status="error",
        created_at=datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        attempts=1,
    )

    fact = UsageRecorded.FromString(usage_fact(record).payload)

    assert fact == UsageRecorded(
        generation_id="gen_2",
        team_id="team_a",
        project_id="prj_1",
        key_id="key_1",
        model="openai/gpt-4o",
        provider="openai",
        provider_model_id="gpt-4o",
        credential_type="byok",
        input_tokens=15,
        cost="0",
        market_cost="0.0000375",
        price_version="v",
        latency_ms=31,
        status="error",
        created_at=Timestamp(seconds=-1, nanos=999_999_000),
        attempts=1,
    )
    assert fact.created_at.ToDatetime(UTC) == record.created_at
    assert list(fact.tags) == [] and fact.hold_id == "" and fact.end_user == ""
