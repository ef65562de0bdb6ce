"""How the benchmark interleaves its targets and adds up their rounds (bench/measure.py)."""

from __future__ import annotations

from bench.load import Result
from bench.measure import Measured, Tally, schedule


def test_each_round_takes_every_target_and_every_other_round_runs_backwards() -> None:
    assert schedule(["a", "b", "c"], 4) == [*"abc", *"cba", *"abc", *"cba"]
    assert schedule(["a", "b"], 1) == ["a", "b"]


def test_rounds_add_up_to_one_phase_as_long_as_all_of_them() -> None:
    tally = Tally()
    # A fast round and a slow one: 100 requests in 1 s, then 50 in 1 s.
    tally.add(Measured(Result(100, 1, 1.0, [1.0] * 100, {"HTTP 502": 1}), {"edge": 0.2}, 0.5, True))
    tally.add(
        Measured(
            Result(50, 2, 1.0, [3.0] * 50, {"HTTP 502": 2}),
            {"edge": 0.3, "router": 0.1},
            0.25,
            False,
        )
    )
    result = tally.result
    assert result.requests == 150 and result.errors == 3
    assert result.rps == 75.0  # all the requests over all the seconds, not a mean of 100 and 50
    assert result.percentile(50) == 1.0 and result.percentile(99) == 3.0  # latencies pooled
    assert result.failures == {"HTTP 502": 3}
    assert dict(tally.cpu_by_process) == {"edge": 0.5, "router": 0.1}
    assert abs(tally.cpu - 0.6) < 1e-9
    assert tally.drain_s == 0.75 and not tally.drained
