"""RequestLogRepository and pagination against a real database (SQLite; PostgreSQL if set)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_activity.models import inbox, metadata, request_log
from tollgate_activity.request_log.repository import RequestLogRepository
from tollgate_activity.request_log.service import (
    RequestFilter,
    RequestLogEntry,
    RequestLogService,
)
from tollgate_common.inbox import Stored
from tollgate_common.usage_record import usage_record

NEW, DUPLICATE, REJECTED = Stored.NEW, Stored.DUPLICATE, Stored.REJECTED

T0 = datetime(2026, 2, 1, 10, 0, 0, tzinfo=UTC)


def _entry(generation_id: str, seconds: float = 0, **changes: object) -> RequestLogEntry:
    fact = UsageRecorded(
        generation_id=generation_id,
        team_id="team_a",
        project_id="prj_1",
        key_id="key_1",
        model="openai/gpt-4o",
        provider="openai",
        credential_type="system",
        input_tokens=10,
        output_tokens=20,
        cost="0.0000123",
        market_cost="0.0000123",
        ttft_ms=100,
        latency_ms=500,
        streamed=True,
        finish_reason="stop",
        status="success",
        attempts=1,
    )
    return usage_record(fact, T0 + timedelta(seconds=seconds), **changes)


@pytest.fixture
def repository(engine: AsyncEngine) -> RequestLogRepository:
    return RequestLogRepository(engine)


@pytest.fixture
def service(repository: RequestLogRepository) -> RequestLogService:
    return RequestLogService(repository)


async def _all_pages(service: RequestLogService, team_id: str, page_size: int) -> list[list[str]]:
    pages: list[list[str]] = []
    token = ""
    while True:
        page = await service.list_requests(team_id, page_size=page_size, page_token=token)
        pages.append([e.generation_id for e in page.entries])
        if not page.next_page_token:
            return pages
        token = page.next_page_token


async def test_an_entry_round_trips_exactly(repository: RequestLogRepository) -> None:
    entry = _entry("gen_1", 0.000001, cost=Decimal("0.000000000000000001"), app_title="App")
    assert await repository.record(entry)
    assert await repository.list_page("team_a", RequestFilter(), None, 10) == [entry]


async def test_a_repeated_entry_changes_nothing(
    repository: RequestLogRepository, engine: AsyncEngine
) -> None:
    assert await repository.record(_entry("gen_1"))
    assert not await repository.record(_entry("gen_1", cost=Decimal(9)))
    async with engine.connect() as conn:
        rows = (await conn.execute(select(func.count()).select_from(request_log))).scalar_one()
        claims = (await conn.execute(select(func.count()).select_from(inbox))).scalar_one()
    assert (rows, claims) == (1, 1)
    [stored] = await repository.list_page("team_a", RequestFilter(), None, 10)
    assert stored.cost == Decimal("0.0000123")


async def test_pages_are_newest_first_with_ties_broken_by_id(
    repository: RequestLogRepository, service: RequestLogService
) -> None:
    # Three entries share one timestamp; microsecond differences must order correctly too.
    for generation_id, seconds in [
        ("gen_a", 0),
        ("gen_b", 1),
        ("gen_c", 1),
        ("gen_d", 1),
        ("gen_e", 1.000001),
        ("gen_f", 60),
        ("gen_g", 3600),
    ]:
        await repository.record(_entry(generation_id, seconds))
    await repository.record(_entry("gen_other", 30, team_id="team_b"))

    assert await _all_pages(service, "team_a", 2) == [
        ["gen_g", "gen_f"],
        ["gen_e", "gen_d"],
        ["gen_c", "gen_b"],
        ["gen_a"],
    ]
    assert await _all_pages(service, "team_a", 7) == [
        ["gen_g", "gen_f", "gen_e", "gen_d", "gen_c", "gen_b", "gen_a"]
    ]
    assert await _all_pages(service, "team_a", 0) == [
        ["gen_g", "gen_f", "gen_e", "gen_d", "gen_c", "gen_b", "gen_a"]
    ]
    assert await _all_pages(service, "team_b", 2) == [["gen_other"]]
    assert await _all_pages(service, "team_c", 2) == [[]]


async def test_an_entry_logged_during_paging_does_not_shift_pages(
    repository: RequestLogRepository, service: RequestLogService
) -> None:
    for index in range(4):
        await repository.record(_entry(f"gen_{index}", index))
    first = await service.list_requests("team_a", page_size=2)
    await repository.record(_entry("gen_new", 100))
    second = await service.list_requests("team_a", page_size=2, page_token=first.next_page_token)
    assert [e.generation_id for e in first.entries] == ["gen_3", "gen_2"]
    assert [e.generation_id for e in second.entries] == ["gen_1", "gen_0"]
    assert second.next_page_token == ""


async def test_filters(repository: RequestLogRepository, service: RequestLogService) -> None:
    await repository.record(_entry("gen_1", 1, model="anthropic/claude", provider="anthropic"))
    await repository.record(_entry("gen_2", 2, model="anthropic/claude", provider="bedrock"))
    await repository.record(_entry("gen_3", 3, project_id="prj_2"))

    async def ids(request_filter: RequestFilter) -> list[str]:
        page = await service.list_requests("team_a", request_filter=request_filter)
        return [e.generation_id for e in page.entries]

    assert await ids(RequestFilter(model="anthropic/claude")) == ["gen_2", "gen_1"]
    assert await ids(RequestFilter(model="anthropic/claude", provider="bedrock")) == ["gen_2"]
    assert await ids(RequestFilter(project_id="prj_2")) == ["gen_3"]
    assert await ids(RequestFilter(provider="openai", project_id="prj_1")) == []


async def test_the_migration_matches_the_models(engine: AsyncEngine) -> None:
    """But for the columns the previous release wrote, which the migrations keep for its pods
    (a later one drops them)."""

    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    fields = UsageRecorded.DESCRIPTOR.fields_by_name
    for kind, _, table, column in differences:  # type: ignore[misc]
        assert (kind, table, column.name in fields) == ("remove_column", "request_log", True)


async def test_concurrent_deliveries_record_once(repository: RequestLogRepository) -> None:
    results = await asyncio.gather(*(repository.record(_entry("gen_1")) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    assert len(await repository.list_page("team_a", RequestFilter(), None, 10)) == 1


async def _counts(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(func.count()).select_from(request_log))).scalar_one()
        claims = (await conn.execute(select(func.count()).select_from(inbox))).scalar_one()
    return rows, claims


async def test_a_batch_logs_each_entry_once(
    repository: RequestLogRepository, service: RequestLogService, engine: AsyncEngine
) -> None:
    assert await repository.record(_entry("gen_0"))
    batch = [
        _entry("gen_1", 1),
        _entry("gen_0", 2, cost=Decimal(7)),  # logged before
        _entry("gen_2", 2),
        _entry("gen_1", 3, cost=Decimal(9)),  # a repeat within the batch
        _entry("gen_bad", 4, team_id=""),  # invalid: rejected, the others proceed
    ]
    assert await service.record_requests(batch) == [NEW, DUPLICATE, NEW, DUPLICATE, REJECTED]
    assert await _counts(engine) == (3, 3)
    page = await repository.list_page("team_a", RequestFilter(), None, 10)
    assert page == [_entry("gen_2", 2), _entry("gen_1", 1), _entry("gen_0")]
    # The same batch redelivered, in another order: nothing changes.
    assert await service.record_requests(batch[::-1]) == [REJECTED] + [DUPLICATE] * 4
    assert await _counts(engine) == (3, 3)


async def test_a_large_batch_is_logged_whole(
    repository: RequestLogRepository, engine: AsyncEngine
) -> None:
    first = [_entry(f"gen_{index:04d}", index) for index in range(0, 1200, 2)]
    assert await repository.record_many(first) == [NEW] * 600
    everything = [_entry(f"gen_{index:04d}", index) for index in range(1200)]
    results = await repository.record_many(everything)
    assert results == [DUPLICATE if index % 2 == 0 else NEW for index in range(1200)]
    assert await _counts(engine) == (1200, 1200)


async def test_concurrent_batches_log_each_entry_once(
    repository: RequestLogRepository, engine: AsyncEngine
) -> None:
    batches = [[_entry(f"gen_{(start + i) % 12}") for i in range(8)] for start in range(6)]
    results = await asyncio.gather(*(repository.record_many(batch) for batch in batches))
    logged = sorted(
        entry.generation_id
        for batch, batch_results in zip(batches, results, strict=True)
        for entry, result in zip(batch, batch_results, strict=True)
        if result is NEW
    )
    assert logged == sorted(f"gen_{index}" for index in range(12))
    assert await _counts(engine) == (12, 12)


async def test_values_the_database_refuses_are_isolated(
    repository: RequestLogRepository, engine: AsyncEngine
) -> None:
    # The service rejects a NUL before it gets here; the repository must cope regardless.
    # PostgreSQL refuses a NUL character in text; SQLite stores it.
    refused = engine.dialect.name == "postgresql"
    batch = [_entry("gen_1"), _entry("gen_bad", model="nul\x00model"), _entry("gen_2")]
    assert await repository.record_many(batch) == [NEW, REJECTED if refused else NEW, NEW]
    assert await _counts(engine) == ((2, 2) if refused else (3, 3))
    again = REJECTED if refused else DUPLICATE
    assert await repository.record_many(batch) == [DUPLICATE, again, DUPLICATE]
