"""Migration 0004 (the usage fact in one column) on a database that has generations: the rows
written before it, and those a pod of the previous release writes during the rolling update (no
``usage``), answer the lookup and the spend report exactly as before; the rows this release
writes leave out the columns the fact now holds (SQLite; PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate.billing.v1 import billing_pb2
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_billing.app import MIGRATIONS_DIR
from tollgate_billing.convert import generation_to_proto
from tollgate_billing.generations.repository import GenerationRepository
from tollgate_billing.ledger.repository import LedgerRepository
from tollgate_billing.ledger.service import CreditsService
from tollgate_billing.report.repository import ReportRepository
from tollgate_billing.report.service import SpendReports, report_query
from tollgate_common.db import create_engine, migrate_async
from tollgate_common.db_types import Money, UtcDateTime
from tollgate_common.usage_record import usage_record

from .test_billing_credits import Facts

CREATED = datetime(2026, 5, 1, 10, 30, 0, 123456, tzinfo=UTC)


def _old_row(generation_id: str, **changes: Any) -> dict[str, Any]:
    """A generation as the previous release stored it: every value in a column."""
    row: dict[str, Any] = {
        "id": generation_id,
        "team_id": "team_a",
        "project_id": "prj_1",
        "key_id": "key_1",
        "user_id": "user_1",
        "model": "openai/gpt-4o",
        "provider": "openai",
        "provider_model_id": "gpt-4o-2024-08-06",
        "credential_type": "system",
        "streamed": True,
        "finish_reason": "stop",
        "status": "success",
        "input_tokens": 100,
        "output_tokens": 50,
        "cached_input_tokens": 10,
        "cache_write_tokens": 5,
        "reasoning_tokens": 7,
        "cost": Decimal("0.00001230"),
        "market_cost": Decimal("0.0000246"),
        "price_version": "2026-01-01",
        "ttft_ms": 120,
        "latency_ms": 900,
        "created_at": CREATED,
        "end_user": "alice",
        "tags": ["beta"],
    }
    row.update(changes)
    return row


_TYPES: dict[str, Any] = {
    "cost": Money,
    "market_cost": Money,
    "created_at": UtcDateTime,
    "tags": sa.JSON,
}


async def _insert_old(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    table = sa.table("generations", *(sa.column(name, _TYPES.get(name)) for name in rows[0]))
    async with engine.begin() as conn:
        await conn.execute(sa.insert(table), rows)


async def _without_usage(engine: AsyncEngine) -> int:
    query = sa.text("SELECT count(*) FROM generations WHERE usage IS NULL")
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


def _as_the_previous_release_answered(row: dict[str, Any]) -> billing_pb2.Generation:
    created_at = Timestamp()
    created_at.FromDatetime(row["created_at"])
    return billing_pb2.Generation(
        id=row["id"],
        team_id=row["team_id"],
        project_id=row["project_id"],
        key_id=row["key_id"],
        model=row["model"],
        provider=row["provider"],
        credential_type=row["credential_type"],
        streamed=row["streamed"],
        finish_reason=row["finish_reason"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cached_input_tokens=row["cached_input_tokens"],
        cache_write_tokens=row["cache_write_tokens"],
        reasoning_tokens=row["reasoning_tokens"],
        cost="0.0000123" if row["cost"] else "0",
        market_cost="0.0000246",
        ttft_ms=row["ttft_ms"],
        latency_ms=row["latency_ms"],
        created_at=created_at,
        price_version=row["price_version"],
    )


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A database at the previous release's schema."""
    await migrate_async(database_url, MIGRATIONS_DIR, "0003")
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_rows_of_the_previous_release_answer_as_before(
    engine: AsyncEngine, database_url: str
) -> None:
    before = [_old_row(f"gen_{i:04d}", input_tokens=i) for i in range(1, 1502)]  # two chunks
    await _insert_old(engine, before)
    await migrate_async(database_url, MIGRATIONS_DIR)
    assert await _without_usage(engine) == 0  # each row's fact was written from its columns
    # A pod of the previous release, still running, stores one more the old way.
    during = _old_row("gen_rolling", credential_type="byok", cost=Decimal(0), streamed=False)
    await _insert_old(engine, [during])
    # This release stores one without the columns the fact now holds.
    credits = CreditsService(LedgerRepository(engine), Facts())
    fact = UsageRecorded(
        generation_id="gen_new",
        team_id="team_a",
        model="openai/gpt-4o",
        provider="openai",
        input_tokens=1,
        cost="1",
        market_cost="1",
    )
    await credits.apply_usage([usage_record(fact, CREATED)])
    assert await _without_usage(engine) == 1

    repository = GenerationRepository(engine)
    for row in (before[0], before[-1], during):
        found = await repository.get("team_a", row["id"])
        assert found is not None
        answered = generation_to_proto(found).SerializeToString()
        assert answered == _as_the_previous_release_answered(row).SerializeToString()

    [day] = await SpendReports(ReportRepository(engine)).report(
        report_query("team_a", "2026-05-01", "2026-05-01")
    )
    assert day.request_count == len(before) + 2
    assert day.input_tokens == sum(range(1, 1502)) + 100 + 1
    assert day.total_cost == Decimal("0.0000123") * len(before) + 1
    assert (day.cached_input_tokens, day.reasoning_tokens) == (10 * 1502, 7 * 1502)
