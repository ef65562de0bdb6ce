"""The router's Prometheus metrics: generations, latency, time to first token, tokens, spend and
upstream errors, by model and provider (names in ``docs/observability.md``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from tollgate_common.metrics import LATENCY_BUCKETS, Series

from tollgate_router.usage import UsageRecord


class RouterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._generations = Series(
            Counter(
                "tollgate_generations",
                "Generations served, by model, provider, status and whether streamed.",
                ["model", "provider", "status", "streamed"],
                registry=registry,
            )
        )
        self._latency = Series(
            Histogram(
                "tollgate_generation_duration_seconds",
                "Time from the request reaching the router to the generation's end.",
                ["model", "provider"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            )
        )
        self._ttft = Series(
            Histogram(
                "tollgate_time_to_first_token_seconds",
                "Time from the request reaching the router to the first content token.",
                ["model", "provider"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            )
        )
        self._tokens = Series(
            Counter(
                "tollgate_tokens",
                "Tokens by model, provider and kind (input includes cached; output includes "
                "reasoning).",
                ["model", "provider", "kind"],
                registry=registry,
            )
        )
        self._spend = Series(
            Counter(
                "tollgate_spend_usd",
                "List-price cost of generations in USD (an approximation in floating point: the "
                "ledger is exact), by model, provider and credential type.",
                ["model", "provider", "credential_type"],
                registry=registry,
            )
        )
        self._upstream_errors = Counter(
            "tollgate_upstream_errors",
            "Failed provider attempts, by provider and HTTP status (0: no response).",
            ["provider", "status"],
            registry=registry,
        )

    def generation(self, record: UsageRecord) -> None:
        model, provider, usage = record.model, record.provider, record.usage
        self._generations(model, provider, record.status, str(record.streamed).lower()).inc()
        self._latency(model, provider).observe(record.latency_ms / 1000)
        if record.status == "success":
            self._ttft(model, provider).observe(record.ttft_ms / 1000)
        for kind, count in (
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cached_input", usage.cached_input_tokens),
            ("cache_write", usage.cache_write_tokens),
            ("reasoning", usage.reasoning_tokens),
        ):
            if count:
                self._tokens(model, provider, kind).inc(count)
        self._spend(model, provider, record.credential_type).inc(float(record.market_cost))

    def upstream_error(self, provider: str, status: int) -> None:
        self._upstream_errors.labels(provider, str(status)).inc()
