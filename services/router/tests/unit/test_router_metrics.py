"""The router's generation metrics: each generation counted once in its series (by model,
provider, status, streamed, credential type), tokens only for the kinds it used, time to first
token only for a success; a series appears once something is counted in it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from prometheus_client import CollectorRegistry
from tollgate_router.catalog.pricing import TokenUsage
from tollgate_router.domain import Caller
from tollgate_router.metrics import RouterMetrics
from tollgate_router.usage import UsageRecord


def _record(status: str = "success", **usage: int) -> UsageRecord:
    return UsageRecord(
        generation_id="gen_1",
        caller=Caller(team_id="team_a"),
        model="openai/gpt-4o",
        provider="openai",
        provider_model_id="gpt-4o",
        credential_type="system",
        usage=TokenUsage(**usage),
        cost=Decimal("0.25"),
        market_cost=Decimal("0.25"),
        price_version="v",
        ttft_ms=120,
        latency_ms=900,
        streamed=False,
        finish_reason="stop" if status == "success" else "",
        status=status,
        created_at=datetime(2026, 5, 1, tzinfo=UTC),
        attempts=1,
    )


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if not sample.name.endswith("_created")
    }


def test_generations_are_counted_in_their_series() -> None:
    registry = CollectorRegistry()
    metrics = RouterMetrics(registry)

    metrics.generation(_record(input_tokens=15, output_tokens=32))
    metrics.generation(_record(input_tokens=5, output_tokens=8, reasoning_tokens=3))
    metrics.generation(_record("error", input_tokens=7))

    samples = _samples(registry)
    model = (("model", "openai/gpt-4o"), ("provider", "openai"))

    def value(name: str, **labels: str) -> float | None:
        return samples.get((name, tuple(sorted((*model, *labels.items())))))

    assert value("tollgate_generations_total", status="success", streamed="false") == 2
    assert value("tollgate_generations_total", status="error", streamed="false") == 1
    assert value("tollgate_tokens_total", kind="input") == 27
    assert value("tollgate_tokens_total", kind="output") == 40
    assert value("tollgate_tokens_total", kind="reasoning") == 3
    # Kinds never used have no series.
    assert value("tollgate_tokens_total", kind="cached_input") is None
    assert value("tollgate_tokens_total", kind="cache_write") is None
    assert value("tollgate_generation_duration_seconds_count") == 3
    assert value("tollgate_time_to_first_token_seconds_count") == 2  # successes only
    assert value("tollgate_spend_usd_total", credential_type="system") == 0.75
