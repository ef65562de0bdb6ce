"""Rollup maths: time buckets, the TTFT histogram, percentiles and query ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate

import pytest
from tollgate_activity.rollups.buckets import (
    TEAM_SCOPE,
    TTFT_BUCKETS,
    TTFT_EDGES_MS,
    RequestFacts,
    Resolution,
    percentile_ms,
    rollup_deltas,
    ttft_bucket,
)
from tollgate_activity.rollups.service import MAX_BUCKETS, resolve_query
from tollgate_common.errors import InvalidArgument

NOW = datetime(2026, 5, 4, 13, 27, 41, 123456, tzinfo=UTC)
TTFTS = [40, 60, 80, 90, 120, 130, 140, 180, 250, 900]


def _histogram(values: list[int]) -> list[int]:
    counts = [0] * TTFT_BUCKETS
    for value in values:
        counts[ttft_bucket(value)] += 1
    return counts


def _facts(ttft_ms: int, **changes: object) -> RequestFacts:
    values: dict[str, object] = {
        "team_id": "team_a",
        "project_id": "prj_1",
        "model": "openai/gpt-4o",
        "created_at": NOW,
        "status": "success",
        "ttft_ms": ttft_ms,
        "input_tokens": 10,
        "output_tokens": 5,
        "cost": Decimal("0.000000000000000001"),
    }
    values.update(changes)
    return RequestFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ttft_ms", "edge"),
    [(0, 5), (1, 5), (5, 5), (6, 10), (100, 100), (101, 150), (60000, 60000)],
)
def test_a_ttft_falls_in_the_bucket_of_the_first_edge_at_or_above_it(
    ttft_ms: int, edge: int
) -> None:
    assert TTFT_EDGES_MS[ttft_bucket(ttft_ms)] == edge


def test_a_ttft_above_the_last_edge_falls_in_the_overflow_bucket() -> None:
    assert ttft_bucket(60001) == TTFT_BUCKETS - 1
    assert percentile_ms([0] * (TTFT_BUCKETS - 1) + [3], 500) == 60000


def test_golden_percentiles_of_a_known_set() -> None:
    counts = _histogram(TTFTS)
    # Nearest rank: p50 is the 5th of 10 (120 ms, bucket ≤150), p95 the 10th (900, ≤1000).
    assert percentile_ms(counts, 500) == 150
    assert percentile_ms(counts, 950) == 1000
    assert percentile_ms(counts, 100) == 50  # the 1st: 40 ms, bucket ≤50
    assert percentile_ms(_histogram([7] * 19 + [2500]), 950) == 10  # rank 19 of 20
    assert percentile_ms(_histogram([7] * 19 + [2500]), 960) == 3000  # rank 20 of 20
    assert percentile_ms([0] * TTFT_BUCKETS, 500) == 0


def test_deltas_count_each_request_in_team_and_project_scope_at_every_resolution() -> None:
    deltas = rollup_deltas(_facts(ttft) for ttft in TTFTS)
    assert len(deltas) == 2 * 3
    for key, delta in deltas.items():
        assert key.scope in (TEAM_SCOPE, "prj_1")
        assert key.bucket_start == Resolution(key.resolution).floor(NOW)
        assert (delta.requests, delta.ttft_count, delta.ttft_sum_ms) == (10, 10, sum(TTFTS))
        assert (delta.input_tokens, delta.output_tokens) == (100, 50)
        assert delta.spend == Decimal("0.00000000000000001")
        assert delta.ttft_buckets == list(accumulate(_histogram(TTFTS)))  # cumulative


def test_failures_count_as_requests_but_not_for_ttft_and_no_project_means_team_only() -> None:
    deltas = rollup_deltas([_facts(300, status="error", project_id=""), _facts(0, project_id="")])
    assert {key.scope for key in deltas} == {TEAM_SCOPE}
    for delta in deltas.values():
        assert (delta.requests, delta.errors, delta.ttft_count, delta.ttft_sum_ms) == (2, 1, 0, 0)


def test_resolutions_floor_and_ceil_to_whole_buckets() -> None:
    assert Resolution.MINUTE.floor(NOW) == datetime(2026, 5, 4, 13, 27, tzinfo=UTC)
    assert Resolution.HOUR.floor(NOW) == datetime(2026, 5, 4, 13, tzinfo=UTC)
    assert Resolution.DAY.floor(NOW) == datetime(2026, 5, 4, tzinfo=UTC)
    assert Resolution.HOUR.ceil(NOW) == datetime(2026, 5, 4, 14, tzinfo=UTC)
    whole = datetime(2026, 5, 4, 14, tzinfo=UTC)
    assert Resolution.HOUR.ceil(whole) == whole


def test_the_default_query_is_the_last_24_hours_hourly_aligned() -> None:
    query = resolve_query("team_a", "", None, None, None, NOW)
    assert query.resolution is Resolution.HOUR
    assert query.scope == TEAM_SCOPE
    assert query.since == datetime(2026, 5, 3, 13, tzinfo=UTC)
    assert query.until == datetime(2026, 5, 4, 14, tzinfo=UTC)
    assert resolve_query("team_a", "prj_9", None, None, None, NOW).scope == "prj_9"


@pytest.mark.parametrize(
    ("resolution", "since", "until", "param"),
    [
        (Resolution.HOUR, NOW, NOW, "until"),
        (Resolution.HOUR, NOW, NOW - timedelta(hours=1), "until"),
        (Resolution.MINUTE, NOW - timedelta(minutes=MAX_BUCKETS + 1), NOW, "granularity"),
        (Resolution.HOUR, NOW - timedelta(days=61), NOW, "granularity"),
    ],
)
def test_bad_ranges_are_invalid_arguments(
    resolution: Resolution, since: datetime, until: datetime, param: str
) -> None:
    with pytest.raises(InvalidArgument) as failure:
        resolve_query("team_a", "", resolution, since, until, NOW)
    assert failure.value.metadata["param"] == param


def test_thirty_days_hourly_and_a_day_of_minutes_are_allowed() -> None:
    resolve_query("team_a", "", Resolution.HOUR, NOW - timedelta(days=30), NOW, NOW)
    start = Resolution.MINUTE.floor(NOW) - timedelta(minutes=MAX_BUCKETS)
    resolve_query("team_a", "", Resolution.MINUTE, start, Resolution.MINUTE.floor(NOW), NOW)
