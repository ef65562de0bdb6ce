"""Rollup maths on plain values: time buckets, the TTFT histogram and percentiles, and how a
batch of requests becomes per-bucket increments (docs/observability.md).

A rollup row sums the requests of one team, one scope (the whole team, or one project), one
model and one time bucket at one resolution (minute, hour or day).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import NamedTuple

# The scope key of a team-wide row (project ids are ``prj_…`` or empty, never this).
TEAM_SCOPE = "*"

# Upper edges (inclusive, ms) of the TTFT histogram's buckets: a fixed log-like scale
# (steps of 1.5x to 2x); a last bucket holds everything above the last edge.
TTFT_EDGES_MS: tuple[int, ...] = (
    5,
    10,
    20,
    30,
    50,
    75,
    100,
    150,
    200,
    300,
    500,
    750,
    1000,
    1500,
    2000,
    3000,
    5000,
    7500,
    10000,
    15000,
    20000,
    30000,
    60000,
)
TTFT_BUCKETS = len(TTFT_EDGES_MS) + 1
# The percentiles reported, in per mille.
P50, P95 = 500, 950
# Cumulative ("le") columns, as in a Prometheus histogram: ttft_le_NN counts the TTFTs up to
# edge NN (ttft_le_23: all of them). They add like plain counts, and a percentile is then one
# comparison per bucket, without running sums (what makes it cheap in SQL).
BUCKET_COLUMNS: tuple[str, ...] = tuple(f"ttft_le_{index:02d}" for index in range(TTFT_BUCKETS))


class Resolution(Enum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"

    @property
    def step(self) -> timedelta:
        return _STEPS[self]

    def floor(self, moment: datetime) -> datetime:
        """The start of the bucket holding ``moment`` (UTC)."""
        moment = moment.astimezone(UTC)
        if self is Resolution.MINUTE:
            return moment.replace(second=0, microsecond=0)
        if self is Resolution.HOUR:
            return moment.replace(minute=0, second=0, microsecond=0)
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)

    def ceil(self, moment: datetime) -> datetime:
        """The first bucket start at or after ``moment``."""
        start = self.floor(moment)
        return start if start == moment else start + self.step


_STEPS = {
    Resolution.MINUTE: timedelta(minutes=1),
    Resolution.HOUR: timedelta(hours=1),
    Resolution.DAY: timedelta(days=1),
}


def ttft_bucket(ttft_ms: int) -> int:
    """The histogram bucket of a time to first token: the first edge ≥ ``ttft_ms``."""
    return bisect.bisect_left(TTFT_EDGES_MS, ttft_ms)


def percentile_ms(counts: Sequence[int], per_mille: int) -> int:
    """The nearest-rank percentile (``per_mille`` = 500 for p50, 950 for p95) of a histogram,
    reported as the upper edge of the bucket that holds it (the last bucket, which has none,
    reports its lower edge); 0 when empty."""
    total = sum(counts)
    if total == 0:
        return 0
    rank = max(1, -(-per_mille * total // 1000))  # ceil(per_mille * total / 1000)
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return TTFT_EDGES_MS[min(index, len(TTFT_EDGES_MS) - 1)]
    return TTFT_EDGES_MS[-1]


class RollupKey(NamedTuple):
    team_id: str
    scope: str  # TEAM_SCOPE or a project id
    resolution: str
    bucket_start: datetime
    model: str


@dataclass(slots=True)
class RollupDelta:
    """What a set of requests adds to one rollup row."""

    requests: int = 0
    errors: int = 0
    ttft_count: int = 0
    ttft_sum_ms: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    spend: Decimal = field(default_factory=Decimal)
    # Cumulative: entry i counts the TTFTs up to edge i (see BUCKET_COLUMNS).
    ttft_buckets: list[int] = field(default_factory=lambda: [0] * TTFT_BUCKETS)

    def count(self, request: RequestFacts) -> None:
        """Add one request. Only a successful one has a time to first token worth
        averaging; a failed one counts as a request (and an error) only."""
        self.requests += 1
        self.input_tokens += request.input_tokens
        self.output_tokens += request.output_tokens
        self.spend += request.cost
        if request.status != "success":
            self.errors += 1
        elif request.ttft_ms > 0:
            self.ttft_count += 1
            self.ttft_sum_ms += request.ttft_ms
            buckets = self.ttft_buckets
            for index in range(ttft_bucket(request.ttft_ms), TTFT_BUCKETS):
                buckets[index] += 1


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """The fields of one request that rollups count."""

    team_id: str
    project_id: str
    model: str
    created_at: datetime
    status: str
    ttft_ms: int
    input_tokens: int
    output_tokens: int
    cost: Decimal


def rollup_deltas(requests: Iterable[RequestFacts]) -> dict[RollupKey, RollupDelta]:
    """Every rollup row a batch of requests touches, with what it adds: for each request, its
    team scope and (when it has one) its project scope, at each resolution."""
    deltas: dict[RollupKey, RollupDelta] = {}
    for request in requests:
        scopes = (TEAM_SCOPE, request.project_id) if request.project_id else (TEAM_SCOPE,)
        for resolution in Resolution:
            start = resolution.floor(request.created_at)
            for scope in scopes:
                key = RollupKey(request.team_id, scope, resolution.value, start, request.model)
                delta = deltas.get(key)
                if delta is None:
                    delta = deltas[key] = RollupDelta()
                delta.count(request)
    return deltas
