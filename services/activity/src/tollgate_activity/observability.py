"""Observability queries on rollups: the range and resolution asked for, and the series a set
of rollup rows becomes (docs/observability.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum

from tollgate_activity.errors import invalid_field
from tollgate_activity.rollups import TEAM_SCOPE, Resolution

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


@dataclass(frozen=True, slots=True)
class Point:
    """One bucket of one model. Besides ``requests``, only the fields of the query's metric
    are filled (the others are zero): ttft (count, average and percentiles of the successful
    requests), tokens, or spend."""

    start: datetime
    requests: int
    ttft_count: int = 0
    ttft_avg_ms: float = 0.0
    ttft_p50_ms: int = 0
    ttft_p95_ms: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    spend: Decimal = Decimal(0)


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


def series_of(points: Iterable[tuple[str, Point]]) -> list[Series]:
    """One series per model (by name), its points oldest first; buckets without requests have
    no point."""
    by_model: dict[str, list[Point]] = {}
    for model, point in points:
        by_model.setdefault(model, []).append(point)
    return [
        Series(model, tuple(sorted(points, key=lambda p: p.start)))
        for model, points in sorted(by_model.items())
    ]
