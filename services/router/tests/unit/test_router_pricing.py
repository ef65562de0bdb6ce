"""List-price cost: exact decimals, cached and cache-write tokens."""

from __future__ import annotations

from decimal import Decimal

from tollgate_common.money import format_usd
from tollgate_router.catalog.catalog import Pricing
from tollgate_router.catalog.pricing import TokenUsage, cost

GPT_4O_MINI = Pricing(
    input=Decimal("0.00000015"),
    output=Decimal("0.0000006"),
    input_cache_read=Decimal("0.000000075"),
)


def test_uncached_input_and_output() -> None:
    amount = cost(GPT_4O_MINI, TokenUsage(input_tokens=1000, output_tokens=500))

    assert isinstance(amount, Decimal)
    assert amount == Decimal("0.00045")  # 1000 * 0.00000015 + 500 * 0.0000006


def test_cached_tokens_are_charged_at_the_cache_read_price() -> None:
    usage = TokenUsage(input_tokens=5, output_tokens=4, cached_input_tokens=2)

    amount = cost(GPT_4O_MINI, usage)

    # 3 * 0.00000015 + 2 * 0.000000075 + 4 * 0.0000006
    assert amount == Decimal("0.000003")
    assert format_usd(amount) == "0.000003"


def test_cache_prices_fall_back_to_the_input_price() -> None:
    pricing = Pricing(input=Decimal("0.000002"), output=Decimal("0.000008"))
    usage = TokenUsage(
        input_tokens=1000, output_tokens=10, cached_input_tokens=600, cache_write_tokens=100
    )

    assert cost(pricing, usage) == Decimal("0.00208")  # 1000 * 0.000002 + 10 * 0.000008


def test_cache_writes_have_their_own_price() -> None:
    pricing = Pricing(
        input=Decimal("0.000003"),
        output=Decimal("0.000015"),
        input_cache_read=Decimal("0.0000003"),
        input_cache_write=Decimal("0.00000375"),
    )
    usage = TokenUsage(
        input_tokens=1000, output_tokens=100, cached_input_tokens=200, cache_write_tokens=300
    )

    # 500 uncached * 0.000003 + 200 * 0.0000003 + 300 * 0.00000375 + 100 * 0.000015
    assert cost(pricing, usage) == Decimal("0.0015") + Decimal("0.00006") + Decimal(
        "0.001125"
    ) + Decimal("0.0015")
    assert format_usd(cost(pricing, usage)) == "0.004185"


def test_reasoning_tokens_are_part_of_the_output() -> None:
    usage = TokenUsage(input_tokens=0, output_tokens=100, reasoning_tokens=80)

    assert cost(GPT_4O_MINI, usage) == Decimal("0.00006")


def test_no_pricing_costs_nothing_and_sums_stay_exact() -> None:
    assert cost(None, TokenUsage(input_tokens=10, output_tokens=10)) == 0
    total = sum(
        (cost(GPT_4O_MINI, TokenUsage(input_tokens=1, output_tokens=1)) for _ in range(10)),
        Decimal(0),
    )
    assert total == Decimal("0.0000075")  # ten times 0.00000075, no float drift
