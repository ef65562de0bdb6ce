"""Rollups maintained with the request log, observability read from them, the time-range
filter and the retention sweep — on SQLite and (when available) PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_activity.models import request_log, request_rollup
from tollgate_activity.pagination import TimeRange
from tollgate_activity.request_log.repository import RequestLogRepository
from tollgate_activity.request_log.retention import RetentionSweeper
from tollgate_activity.request_log.service import (
    RequestFilter,
    RequestLogEntry,
    RequestLogService,
)
from tollgate_activity.rollups.buckets import (
    P50,
    P95,
    TTFT_BUCKETS,
    Resolution,
    percentile_ms,
    ttft_bucket,
)
from tollgate_activity.rollups.repository import RollupRepository
from tollgate_activity.rollups.service import Metric, ObservabilityService, Series
from tollgate_common.errors import InvalidArgument
from tollgate_common.inbox import Stored
from tollgate_common.usage_record import usage_record

T0 = datetime(2026, 2, 1, 10, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=3)
TTFTS = [40, 60, 80, 90, 120, 130, 140, 180, 250, 900]
# Eighteen decimals: a float would lose these; the sum must be exact.
COSTS = [Decimal("0.000000000000000001"), Decimal("0.1"), Decimal("0.2"), Decimal("1234.56789")]


def _entry(generation_id: str, minutes: float = 0, **changes: object) -> RequestLogEntry:
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
        cost="0.0001",
        market_cost="0.0001",
        ttft_ms=100,
        latency_ms=500,
        streamed=True,
        finish_reason="stop",
        status="success",
        attempts=1,
    )
    return usage_record(fact, T0 + timedelta(minutes=minutes), **changes)


@dataclass(frozen=True)
class P:
    """One bucket of a series (a row of its columns; None where the metric has no column)."""

    start: datetime
    requests: int
    ttft_avg_ms: float | None
    ttft_p50_ms: int | None
    ttft_p95_ms: int | None
    input_tokens: int | None
    output_tokens: int | None
    spend: Decimal | None


def _points(series: Series) -> list[P]:
    def column(values: list[Any]) -> list[Any]:
        return values or [None] * len(series.starts)

    return [
        P(datetime.fromtimestamp(start, UTC), *values)
        for start, *values in zip(
            series.starts,
            series.requests,
            column(series.ttft_avg_ms),
            column(series.ttft_p50_ms),
            column(series.ttft_p95_ms),
            column(series.input_tokens),
            column(series.output_tokens),
            column(series.spend),
            strict=True,
        )
    ]


@pytest.fixture
def repository(engine: AsyncEngine) -> RequestLogRepository:
    return RequestLogRepository(engine)


@pytest.fixture
def service(repository: RequestLogRepository) -> RequestLogService:
    return RequestLogService(repository)


@pytest.fixture
def observability(engine: AsyncEngine) -> ObservabilityService:
    return ObservabilityService(RollupRepository(engine))


async def _series(
    observability: ObservabilityService,
    team_id: str = "team_a",
    project_id: str = "",
    resolution: Resolution = Resolution.HOUR,
    metric: Metric = Metric.SPEND,
) -> list[Series]:
    _, series = await observability.observability(
        team_id, project_id=project_id, resolution=resolution, metric=metric, now=NOW
    )
    return series


async def test_ttft_average_and_percentiles_come_from_the_rollups(
    service: RequestLogService, observability: ObservabilityService
) -> None:
    batch = [_entry(f"gen_{i}", i, ttft_ms=ttft) for i, ttft in enumerate(TTFTS)]
    await service.record_requests(batch)
    await service.record_requests([_entry("gen_failed", 1, ttft_ms=5000, status="error")])
    [series] = await _series(observability, metric=Metric.TTFT)
    [point] = _points(series)
    assert series.model == "openai/gpt-4o"
    assert point.start == T0
    assert point.requests == 11  # the failure counts, but has no TTFT
    assert point.ttft_avg_ms == 199.0
    assert (point.ttft_p50_ms, point.ttft_p95_ms) == (150, 1000)
    [tokens] = await _series(observability, metric=Metric.TOKENS)
    assert [(p.input_tokens, p.output_tokens) for p in _points(tokens)] == [(110, 220)]


@pytest.mark.parametrize(
    "ttfts",
    [[7] * 19 + [2500], [1], [70000, 70000, 3], list(range(0, 100000, 997)), [0, 0, 5]],
)
async def test_percentiles_in_sql_match_the_reference(
    service: RequestLogService, ttfts: list[int], observability: ObservabilityService
) -> None:
    await service.record_requests(
        [_entry(f"gen_{i}", ttft_ms=ttft) for i, ttft in enumerate(ttfts)]
    )
    [series] = await _series(observability, metric=Metric.TTFT)
    [point] = _points(series)
    counted = [t for t in ttfts if t > 0]
    histogram = [0] * TTFT_BUCKETS
    for ttft in counted:
        histogram[ttft_bucket(ttft)] += 1
    assert point.ttft_p50_ms == percentile_ms(histogram, P50)
    assert point.ttft_p95_ms == percentile_ms(histogram, P95)


async def test_spend_sums_exactly_across_batches_and_resolutions(
    service: RequestLogService, observability: ObservabilityService
) -> None:
    for index, cost in enumerate(COSTS):
        await service.record_requests([_entry(f"gen_{index}", index * 30, cost=cost)])
    expected = sum(COSTS, Decimal(0))
    assert expected == Decimal("1234.867890000000000001")
    [day] = await _series(observability, resolution=Resolution.DAY)
    assert [p.spend for p in _points(day)] == [expected]
    [hours] = await _series(observability)
    assert [(p.start, p.spend) for p in _points(hours)] == [
        (T0, COSTS[0] + COSTS[1]),
        (T0 + timedelta(hours=1), COSTS[2] + COSTS[3]),
    ]
    [minutes] = await _series(observability, resolution=Resolution.MINUTE)
    assert [p.spend for p in _points(minutes)] == COSTS


async def test_a_fact_twice_is_one_row_and_counted_once(
    service: RequestLogService,
    repository: RequestLogRepository,
    engine: AsyncEngine,
    observability: ObservabilityService,
) -> None:
    first = _entry("gen_1", cost=Decimal("0.5"))
    assert await service.record_requests([first, first]) == [Stored.NEW, Stored.DUPLICATE]
    assert await service.record_requests([first]) == [Stored.DUPLICATE]
    assert await repository.record(first) is False
    # Concurrent deliveries of one fact and of overlapping batches.
    await asyncio.gather(*(repository.record(_entry("gen_2")) for _ in range(4)))
    await asyncio.gather(
        *(service.record_requests([_entry("gen_2"), _entry("gen_3")]) for _ in range(3))
    )
    [series] = await _series(observability)
    [point] = _points(series)
    assert point.requests == 3
    assert point.spend == Decimal("0.5002")
    async with engine.connect() as conn:
        rows = (await conn.execute(select(func.count()).select_from(request_log))).scalar_one()
    assert rows == 3


async def test_scopes_keep_teams_and_projects_apart(
    service: RequestLogService, observability: ObservabilityService
) -> None:
    await service.record_requests(
        [
            _entry("gen_1", project_id="prj_1"),
            _entry("gen_2", project_id="prj_2", model="anthropic/claude-sonnet-4"),
            _entry("gen_3", project_id=""),
            _entry("gen_b", team_id="team_b", project_id="prj_1", cost=Decimal(7)),
        ]
    )
    team = await _series(observability)
    assert [(s.model, [p.requests for p in _points(s)]) for s in team] == [
        ("anthropic/claude-sonnet-4", [1]),
        ("openai/gpt-4o", [2]),
    ]
    project = await _series(observability, project_id="prj_1")
    assert [(s.model, [p.requests for p in _points(s)]) for s in project] == [
        ("openai/gpt-4o", [1])
    ]
    assert [p.spend for p in _points(project[0])] == [Decimal("0.0001")]
    assert await _series(observability, project_id="prj_9") == []
    other = await _series(observability, team_id="team_b")
    assert [p.spend for s in other for p in _points(s)] == [Decimal(7)]
    assert await _series(observability, team_id="team_c") == []


async def test_only_buckets_in_the_range_are_answered(
    service: RequestLogService, observability: ObservabilityService
) -> None:
    await service.record_requests(
        [_entry("gen_old", -60 * 25), _entry("gen_1", 0), _entry("gen_2", 60 * 2 + 59)]
    )
    query, [series] = await observability.observability("team_a", now=NOW)
    assert (query.since, query.until) == (NOW - timedelta(hours=24), NOW)
    assert [(p.start, p.requests) for p in _points(series)] == [
        (T0, 1),
        (T0 + timedelta(hours=2), 1),
    ]
    _, [narrow] = await observability.observability(
        "team_a",
        time_range=TimeRange(T0 + timedelta(minutes=30), T0 + timedelta(hours=2)),
        now=NOW,
    )
    assert [p.start for p in _points(narrow)] == [T0]  # since aligns down to the hour


async def test_the_request_log_filters_by_time(service: RequestLogService) -> None:
    await service.record_requests([_entry(f"gen_{i}", i) for i in range(5)])

    async def ids(since: int | None, until: int | None) -> list[str]:
        time_range = TimeRange(
            None if since is None else T0 + timedelta(minutes=since),
            None if until is None else T0 + timedelta(minutes=until),
        )
        page = await service.list_requests(
            "team_a", request_filter=RequestFilter(time_range=time_range), page_size=2
        )
        return [e.generation_id for e in page.entries]

    assert await ids(1, 3) == ["gen_2", "gen_1"]
    assert await ids(3, None) == ["gen_4", "gen_3"]
    assert await ids(None, 1) == ["gen_0"]
    with pytest.raises(InvalidArgument):
        await ids(3, 1)


async def test_retention_deletes_old_rows_and_keeps_the_rollups(
    service: RequestLogService,
    repository: RequestLogRepository,
    engine: AsyncEngine,
    observability: ObservabilityService,
) -> None:
    await service.record_requests([_entry(f"gen_{i}", i) for i in range(6)])
    await service.record_requests([_entry("gen_new", 60 * 24 * 40)])
    sweeper = RetentionSweeper(repository, retention_days=30, interval_seconds=3600)
    now = T0 + timedelta(days=40, hours=1)
    assert await sweeper.sweep(now) == 6
    page = await service.list_requests("team_a")
    assert [e.generation_id for e in page.entries] == ["gen_new"]
    _, [series] = await observability.observability(
        "team_a", resolution=Resolution.DAY, time_range=TimeRange(T0, now), now=now
    )  # the default metric: request counts
    assert [p.requests for p in _points(series)] == [6, 1]
    async with engine.connect() as conn:
        rollups = (
            await conn.execute(select(func.count()).select_from(request_rollup))
        ).scalar_one()
    assert rollups == 2 * (7 + 2 + 2)  # two scopes x (7 minutes, 2 hours, 2 days)
    assert await sweeper.sweep(now) == 0
