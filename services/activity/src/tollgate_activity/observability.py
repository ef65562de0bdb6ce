"""Observability queries on rollups: the range and resolution asked for, and the series a set
of rollup rows becomes (docs/observability.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from tollgate_activity.errors import invalid_field
from tollgate_activity.rollups import TEAM_SCOPE, Resolution, percentile_ms

# Points per series at most: a day of minutes, two months of hours, four years of days.
MAX_BUCKETS = 1440
DEFAULT_WINDOW = timedelta(hours=24)
P50, P95 = 500, 950


@dataclass(frozen=True)
class ObservabilityQuery:
    team_id: str
    scope: str  # TEAM_SCOPE or a project id
    resolution: Resolution
    since: datetime  # aligned to the resolution, inclusive
    until: datetime  # aligned to the resolution, exclusive


@dataclass(frozen=True)
class RollupRow:
    model: str
    bucket_start: datetime
    requests: int
    errors: int
    ttft_count: int
    ttft_sum_ms: int
    input_tokens: int
    output_tokens: int
    spend: Decimal
    ttft_buckets: tuple[int, ...]


@dataclass(frozen=True)
class Point:
    start: datetime
    requests: int
    ttft_count: int
    ttft_avg_ms: float
    ttft_p50_ms: int
    ttft_p95_ms: int
    input_tokens: int
    output_tokens: int
    spend: Decimal


@dataclass(frozen=True)
class Series:
    model: str
    points: tuple[Point, ...]


def resolve_query(
    team_id: str,
    project_id: str,
    resolution: Resolution | None,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
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
        team_id, project_id or TEAM_SCOPE, resolution, aligned_start, aligned_end
    )


def point_of(row: RollupRow) -> Point:
    average = row.ttft_sum_ms / row.ttft_count if row.ttft_count else 0.0
    return Point(
        start=row.bucket_start,
        requests=row.requests,
        ttft_count=row.ttft_count,
        ttft_avg_ms=average,
        ttft_p50_ms=percentile_ms(row.ttft_buckets, P50),
        ttft_p95_ms=percentile_ms(row.ttft_buckets, P95),
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        spend=row.spend,
    )


def series_of(rows: Iterable[RollupRow]) -> list[Series]:
    """One series per model (by name), its points oldest first; buckets without requests have
    no point."""
    by_model: dict[str, list[Point]] = {}
    for row in rows:
        by_model.setdefault(row.model, []).append(point_of(row))
    return [
        Series(model, tuple(sorted(points, key=lambda p: p.start)))
        for model, points in sorted(by_model.items())
    ]
