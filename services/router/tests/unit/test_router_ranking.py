"""Default provider order: recent success rate, then latency, then list price; `order` wins."""

from __future__ import annotations

from tollgate_router.catalog.catalog import ModelInfo, build_catalog
from tollgate_router.domain import RoutingOptions
from tollgate_router.routing.planning import ordered_offers
from tollgate_router.routing.provider_stats import ProviderStats

CATALOG = build_catalog(
    {
        "version": "v",
        "models": [
            {
                "id": "acme/m",
                "providers": [
                    {"provider": "openai", "pricing": {"input": "0.000003", "output": "0.00001"}},
                    {"provider": "groq", "pricing": {"input": "0.000001", "output": "0.000002"}},
                    {"provider": "xai", "pricing": {"input": "0.000002", "output": "0.000002"}},
                    {"provider": "mistral", "free": True},
                    {"provider": "deepseek"},  # no price: last
                ],
            }
        ],
    }
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def model() -> ModelInfo:
    found = CATALOG.resolve("acme/m")
    assert found is not None
    return found


def order(stats: ProviderStats | None = None, **options: tuple[str, ...]) -> list[str]:
    return [o.provider for o in ordered_offers(model(), RoutingOptions(**options), stats)]


def test_without_history_the_cheapest_list_price_goes_first() -> None:
    assert order(ProviderStats()) == ["mistral", "groq", "xai", "openai", "deepseek"]


def test_order_puts_the_named_providers_first_and_ranks_the_rest() -> None:
    assert order(ProviderStats(), order=("openai", "deepseek")) == [
        "openai",
        "deepseek",
        "mistral",
        "groq",
        "xai",
    ]


def test_only_filters_before_ranking() -> None:
    assert order(ProviderStats(), only=("openai", "xai")) == ["xai", "openai"]


def test_a_failing_provider_drops_behind_healthy_ones_and_recovers_with_time() -> None:
    clock = Clock()
    stats = ProviderStats(clock=clock, half_life_seconds=60)
    stats.record_failure("mistral", "m")

    assert order(stats)[:2] == ["groq", "xai"]
    assert order(stats) == ["groq", "xai", "openai", "deepseek", "mistral"]
    health = stats.health("mistral", "m")
    assert health.success_rate == 0.0 and health.samples == 1

    clock.now += 60 * 8  # eight half-lives: the failure is mostly forgotten
    assert stats.health("mistral", "m").success_rate > 0.99
    assert order(stats)[0] == "mistral"


def test_a_slower_provider_ranks_after_a_faster_one_of_equal_health() -> None:
    stats = ProviderStats(clock=Clock())
    stats.record_success("groq", "m", first_byte_seconds=1.2)
    stats.record_success("xai", "m", first_byte_seconds=0.1)
    stats.record_success("mistral", "m", first_byte_seconds=0.9)

    assert order(stats, only=("groq", "xai", "mistral")) == ["xai", "mistral", "groq"]
    # A provider with no recent history is tried optimistically, ahead of slower known ones.
    assert order(stats, only=("openai", "groq")) == ["openai", "groq"]


def test_small_latency_differences_do_not_beat_price() -> None:
    stats = ProviderStats(clock=Clock())
    stats.record_success("groq", "m", first_byte_seconds=0.12)
    stats.record_success("xai", "m", first_byte_seconds=0.10)

    assert order(stats, only=("groq", "xai")) == ["groq", "xai"]  # same 250 ms step: price


def test_averages_weigh_recent_observations() -> None:
    stats = ProviderStats(clock=Clock())
    stats.record_success("groq", "m", 0.2)
    for _ in range(3):
        stats.record_failure("groq", "m")
    failing = stats.health("groq", "m").success_rate
    stats.record_success("groq", "m", 0.2)

    assert failing < 0.4
    assert stats.health("groq", "m").success_rate > failing
    assert stats.health("groq", "m").latency_ms == 200.0
