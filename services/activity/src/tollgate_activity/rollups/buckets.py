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
from itertools import accumulate
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
    # Entry i counts the TTFTs up to edge i (see BUCKET_COLUMNS) in what rollup_deltas
    # returns; while it adds up, entry i counts those of bucket i only (one increment per
    # request). Sums of either kind add the same way.
    ttft_buckets: list[int] = field(default_factory=lambda: [0] * TTFT_BUCKETS)

    def add(self, other: RollupDelta) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.ttft_count += other.ttft_count
        self.ttft_sum_ms += other.ttft_sum_ms
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.spend += other.spend
        self.ttft_buckets = [
            a + b for a, b in zip(self.ttft_buckets, other.ttft_buckets, strict=True)
        ]


class RequestFacts(NamedTuple):
    """The fields of one request that rollups count (a plain tuple: a batch of them is
    zipped from the request rows' columns, without an object per request)."""

    team_id: str
    project_id: str
    model: str
    created_at: datetime
    status: str
    ttft_ms: int
    input_tokens: int
    output_tokens: int
    cost: Decimal


# A rollup row before its scope is known: (team, project or "", model, bucket number), the
# bucket number counting whole buckets since the epoch (UTC days start at multiples of 86400).
_Cell = tuple[str, str, str, int]
_LEVELS = ((Resolution.MINUTE, 60, 1), (Resolution.HOUR, 3600, 60), (Resolution.DAY, 86400, 24))


def rollup_deltas(requests: Iterable[RequestFacts]) -> dict[RollupKey, RollupDelta]:
    """Every rollup row a batch of requests touches, with what it adds: for each request, its
    team scope and (when it has one) its project scope, at each resolution.

    Each request is counted once, into its (team, project, model, minute) cell; hours add up
    minutes, days add up hours, and a team's row adds up its projects' rows: the work per
    request stays one dictionary look-up and a few additions however many rows it lands in.
    Only a successful request has a time to first token worth averaging; a failed one counts
    as a request (and an error) only."""
    minutes: dict[_Cell, RollupDelta] = {}
    edges = TTFT_EDGES_MS
    for team, project, model, created_at, status, ttft, tokens_in, tokens_out, cost in requests:
        cell = (team, project, model, int(created_at.timestamp()) // 60)
        delta = minutes.get(cell)
        if delta is None:
            delta = minutes[cell] = RollupDelta()
        delta.requests += 1
        delta.input_tokens += tokens_in
        delta.output_tokens += tokens_out
        delta.spend += cost
        if status != "success":
            delta.errors += 1
        elif ttft > 0:
            delta.ttft_count += 1
            delta.ttft_sum_ms += ttft
            delta.ttft_buckets[bisect.bisect_left(edges, ttft)] += 1
    deltas: dict[RollupKey, RollupDelta] = {}
    cells = minutes
    for resolution, seconds, factor in _LEVELS:
        if factor > 1:
            cells = _coarser(cells, factor)
        _add_scopes(deltas, resolution.value, seconds, cells)
    for delta in deltas.values():
        delta.ttft_buckets = list(accumulate(delta.ttft_buckets))
    return deltas


def _coarser(cells: dict[_Cell, RollupDelta], factor: int) -> dict[_Cell, RollupDelta]:
    """``cells`` added up into buckets ``factor`` times as long."""
    coarse: dict[_Cell, RollupDelta] = {}
    for (team, project, model, number), delta in cells.items():
        cell = (team, project, model, number // factor)
        total = coarse.get(cell)
        if total is None:
            total = coarse[cell] = RollupDelta()
        total.add(delta)
    return coarse


def _add_scopes(
    deltas: dict[RollupKey, RollupDelta],
    resolution: str,
    seconds: int,
    cells: dict[_Cell, RollupDelta],
) -> None:
    """The rows of ``cells``: a project's own, and each added to its team's."""
    starts: dict[int, datetime] = {}
    for (team, project, model, number), delta in cells.items():
        start = starts.get(number)
        if start is None:
            start = starts[number] = datetime.fromtimestamp(number * seconds, UTC)
        if project:
            deltas[RollupKey(team, project, resolution, start, model)] = delta
        team_key = RollupKey(team, TEAM_SCOPE, resolution, start, model)
        total = deltas.get(team_key)
        if total is None:
            total = deltas[team_key] = RollupDelta()
        total.add(delta)
