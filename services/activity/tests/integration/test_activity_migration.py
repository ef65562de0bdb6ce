"""Migration 0004 (the usage fact in one column) on a database that has requests: the rows
written before it, and those a pod of the previous release writes during the rolling update (no
``usage``), answer the request log exactly as before; the rows this release writes leave out
the columns the fact now holds (SQLite; PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate.activity.v1 import activity_pb2
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_activity.app import MIGRATIONS_DIR
from tollgate_activity.convert import entry_to_proto
from tollgate_activity.request_log.repository import RequestLogRepository
from tollgate_activity.request_log.service import RequestFilter
from tollgate_common.db import create_engine, migrate_async
from tollgate_common.db_types import Money, UtcDateTime
from tollgate_common.usage_record import usage_record

T0 = datetime(2026, 5, 1, 10, 30, 0, 123456, tzinfo=UTC)


def _old_row(generation_id: str, seconds: int, **changes: Any) -> dict[str, Any]:
    """A request as the previous release stored it: every value in a column."""
    row: dict[str, Any] = {
        "generation_id": generation_id,
        "created_at": T0 + timedelta(seconds=seconds),
        "team_id": "team_a",
        "project_id": "prj_1",
        "key_id": "key_1",
        "model": "openai/gpt-4o",
        "provider": "openai",
        "credential_type": "system",
        "input_tokens": 100,
        "output_tokens": 50,
        "cached_input_tokens": 10,
        "reasoning_tokens": 7,
        "cost": Decimal("0.00001230"),
        "market_cost": Decimal("0.0000246"),
        "ttft_ms": 120,
        "latency_ms": 900,
        "streamed": True,
        "finish_reason": "stop",
        "status": "success",
        "app_title": "My App",
        "app_referer": "https://example.com/",
        "attempts": 2,
    }
    row.update(changes)
    return row


_TYPES: dict[str, Any] = {"cost": Money, "market_cost": Money, "created_at": UtcDateTime}


async def _insert_old(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    table = sa.table("request_log", *(sa.column(name, _TYPES.get(name)) for name in rows[0]))
    async with engine.begin() as conn:
        await conn.execute(sa.insert(table), rows)


async def _without_usage(engine: AsyncEngine) -> int:
    query = sa.text("SELECT count(*) FROM request_log WHERE usage IS NULL")
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


def _as_the_previous_release_answered(row: dict[str, Any]) -> activity_pb2.RequestLogEntry:
    created_at = Timestamp()
    created_at.FromDatetime(row["created_at"])
    values = {k: v for k, v in row.items() if k not in ("created_at", "cost", "market_cost")}
    return activity_pb2.RequestLogEntry(
        **values, created_at=created_at, cost="0.0000123", market_cost="0.0000246"
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
    before = [_old_row(f"gen_{i:04d}", i, input_tokens=i) for i in range(1, 1502)]
    await _insert_old(engine, before)
    await migrate_async(database_url, MIGRATIONS_DIR)
    assert await _without_usage(engine) == 0  # each row's fact was written from its columns
    # A pod of the previous release, still running, stores one more the old way.
    during = _old_row("gen_rolling", 2000, streamed=False, status="error", app_title="")
    await _insert_old(engine, [during])
    # This release stores one without the columns the fact now holds.
    repository = RequestLogRepository(engine)
    fact = UsageRecorded(
        generation_id="gen_new",
        team_id="team_a",
        model="openai/gpt-4o",
        provider="openai",
        cost="1",
        market_cost="1",
    )
    assert await repository.record(usage_record(fact, T0 + timedelta(seconds=3000)))
    assert await _without_usage(engine) == 1

    page = await repository.list_page("team_a", RequestFilter(), None, 1600)
    assert [e.generation_id for e in page[:3]] == ["gen_new", "gen_rolling", "gen_1501"]
    answered = {e.generation_id: entry_to_proto(e).SerializeToString() for e in page}
    for row in (before[0], before[-1], during):
        expected = _as_the_previous_release_answered(row).SerializeToString()
        assert answered[row["generation_id"]] == expected
