"""bench/layers.py reads the processes' histograms as Prometheus writes them: the mean of what
one series observed between two scrapes, other series (another method, another route) apart."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from bench.layers import mean_ms


def test_the_mean_between_two_scrapes_of_one_series() -> None:
    registry = CollectorRegistry()
    seconds = Histogram(
        "tollgate_grpc_server_handling_seconds", "", ["service", "method"], registry=registry
    )
    seconds.labels("router", "Generate").observe(0.5)  # before the window
    seconds.labels("router", "StreamGenerate").observe(9.0)
    before = generate_latest(registry).decode()
    for value in (0.001, 0.002, 0.003):
        seconds.labels("router", "Generate").observe(value)
    seconds.labels("router", "StreamGenerate").observe(7.0)
    after = generate_latest(registry).decode()

    mean = mean_ms(before, after, "tollgate_grpc_server_handling_seconds", {"method": "Generate"})

    assert mean == pytest.approx(2.0)


def test_a_series_that_observed_nothing_is_an_error_not_a_zero() -> None:
    registry = CollectorRegistry()
    Histogram("tollgate_generation_duration_seconds", "", ["model"], registry=registry).labels(
        "openai/gpt-4o"
    ).observe(0.2)
    text = generate_latest(registry).decode()

    with pytest.raises(RuntimeError, match="observed nothing"):
        mean_ms(text, text, "tollgate_generation_duration_seconds", {"model": "openai/gpt-4o"})
