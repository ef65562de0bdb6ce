"""Observability queries on rollups: the range and resolution asked for, the series a set of
rollup rows becomes (docs/observability.md), and answering a query from the rollups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Protocol

from tollgate_activity.errors import invalid_field
from tollgate_activity.pagination import TimeRange
from tollgate_activity.rollups.buckets import TEAM_SCOPE, Resolution

# Points per series at most: a day of minutes, two months of hours, four years of days.
MAX_BUCKETS = 1440
DEFAULT_WINDOW = timedelta(hours=24)


class Metric(Enum):
    REQUESTS = "requests"
    TTFT = "ttft"
    TOKENS = "tokens"
    SPEND = "spend"


@dataclass(frozen=True)
class ObservabilityQuery:
    team_id: str
    scope: str  # TEAM_SCOPE or a project id
    resolution: Resolution
    since: datetime  # aligned to the resolution, inclusive
    until: datetime  # aligned to the resolution, exclusive
    metric: Metric = Metric.REQUESTS


@dataclass
class Series:
    """One model's buckets, column-wise: entry i of each list is bucket i (oldest first; only
    buckets with requests). ``starts`` (Unix seconds) and ``requests`` are always filled; the
    other columns only for the query's metric (empty otherwise)."""

    model: str
    starts: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    ttft_avg_ms: list[float] = field(default_factory=list)
    ttft_p50_ms: list[int] = field(default_factory=list)
    ttft_p95_ms: list[int] = field(default_factory=list)
    input_tokens: list[int] = field(default_factory=list)
    output_tokens: list[int] = field(default_factory=list)
    spend: list[Decimal] = field(default_factory=list)


def resolve_query(
    team_id: str,
    project_id: str,
    resolution: Resolution | None,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    metric: Metric = Metric.REQUESTS,
) -> ObservabilityQuery:
    """The query with its defaults (the last 24 hours, hourly) and its range aligned to whole
    buckets: ``since`` down, ``until`` up. INVALID_ARGUMENT for a range that is empty,
    reversed or longer than :data:`MAX_BUCKETS` buckets."""
    if not team_id:
        raise invalid_field("team_id", "team_id is required")
    resolution = resolution or Resolution.HOUR
    end = until or now
    start = since or end - DEFAULT_WINDOW
    if end <= start:
        raise invalid_field("until", "until must be after since")
    aligned_start, aligned_end = resolution.floor(start), resolution.ceil(end)
    if (aligned_end - aligned_start) / resolution.step > MAX_BUCKETS:
        raise invalid_field(
            "granularity",
            f"at most {MAX_BUCKETS} {resolution.value} buckets per query: "
            "choose a coarser granularity or a shorter range",
        )
    return ObservabilityQuery(
        team_id, project_id or TEAM_SCOPE, resolution, aligned_start, aligned_end, metric
    )


class Rollups(Protocol):
    """Where the rollups are kept (:class:`~.repository.RollupRepository`)."""

    async def read(self, query: ObservabilityQuery) -> list[Series]:
        """The rollup rows of the query's team, scope and resolution in its range."""
        ...


class ObservabilityService:
    def __init__(self, rollups: Rollups) -> None:
        self._rollups = rollups

    async def observability(
        self,
        team_id: str,
        *,
        project_id: str = "",
        resolution: Resolution | None = None,
        time_range: TimeRange | None = None,
        metric: Metric = Metric.REQUESTS,
        now: datetime | None = None,
    ) -> tuple[ObservabilityQuery, list[Series]]:
        """The series of ``team_id`` (or of one of its projects) over the range, per model,
        read from the rollups; the query as answered (defaults filled, range aligned)."""
        time_range = time_range or TimeRange()
        query = resolve_query(
            team_id,
            project_id,
            resolution,
            time_range.since,
            time_range.until,
            now or datetime.now(UTC),
            metric,
        )
        return query, await self._rollups.read(query)
