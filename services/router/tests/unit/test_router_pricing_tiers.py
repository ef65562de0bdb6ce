"""Golden costs for long-context tiers and per-image prices, exact in Decimal."""

from __future__ import annotations

from decimal import Decimal

from tollgate_common.money import format_usd
from tollgate_router.catalog.catalog import PriceTier, Pricing, load_catalog
from tollgate_router.catalog.pricing import TokenUsage, cost

# Claude Sonnet 4 on Anthropic: $3 / $15 per million, cache read $0.30, cache write $3.75;
# prompts over 200K tokens: $6 / $22.50, cache read $0.60, cache write $7.50.
SONNET_4 = Pricing(
    input=Decimal("0.000003"),
    output=Decimal("0.000015"),
    input_cache_read=Decimal("0.0000003"),
    input_cache_write=Decimal("0.00000375"),
    tiers=(
        PriceTier(
            above_input_tokens=200_000,
            input=Decimal("0.000006"),
            output=Decimal("0.0000225"),
            input_cache_read=Decimal("0.0000006"),
            input_cache_write=Decimal("0.0000075"),
        ),
    ),
)


def test_a_prompt_of_exactly_the_threshold_is_priced_at_the_base_tier() -> None:
    usage = TokenUsage(input_tokens=200_000, output_tokens=1_000)

    # 200000 * 0.000003 + 1000 * 0.000015
    assert cost(SONNET_4, usage) == Decimal("0.615")


def test_one_token_over_the_threshold_prices_the_whole_generation_at_the_tier() -> None:
    usage = TokenUsage(input_tokens=200_001, output_tokens=1_000)

    # 200001 * 0.000006 + 1000 * 0.0000225: input 2x, output 1.5x
    assert cost(SONNET_4, usage) == Decimal("1.222506")


def test_cached_and_cache_write_tokens_count_toward_the_prompt_size() -> None:
    usage = TokenUsage(
        input_tokens=250_000,
        output_tokens=2_000,
        cached_input_tokens=150_000,
        cache_write_tokens=60_000,
        reasoning_tokens=500,
    )

    # 40000 uncached * 0.000006 + 150000 * 0.0000006 + 60000 * 0.0000075 + 2000 * 0.0000225
    assert cost(SONNET_4, usage) == Decimal("0.825")
    assert format_usd(cost(SONNET_4, usage)) == "0.825"


def test_the_highest_tier_the_prompt_exceeds_applies() -> None:
    pricing = Pricing(
        input=Decimal("0.000001"),
        output=Decimal("0.000005"),
        tiers=(
            PriceTier(
                above_input_tokens=32_000, input=Decimal("0.0000018"), output=Decimal("0.000009")
            ),
            PriceTier(
                above_input_tokens=128_000, input=Decimal("0.000003"), output=Decimal("0.000015")
            ),
        ),
    )

    assert cost(pricing, TokenUsage(input_tokens=32_000, output_tokens=10)) == Decimal("0.03205")
    assert cost(pricing, TokenUsage(input_tokens=100_000, output_tokens=10)) == Decimal("0.18009")
    assert cost(pricing, TokenUsage(input_tokens=128_001, output_tokens=10)) == Decimal("0.384153")


def test_a_tier_without_a_cache_price_falls_back_to_its_own_input_price() -> None:
    pricing = Pricing(
        input=Decimal("0.00000125"),
        output=Decimal("0.00001"),
        tiers=(
            PriceTier(
                above_input_tokens=200_000, input=Decimal("0.0000025"), output=Decimal("0.000015")
            ),
        ),
    )
    usage = TokenUsage(input_tokens=300_000, output_tokens=0, cached_input_tokens=100_000)

    assert cost(pricing, usage) == Decimal("0.75")  # 300000 * 0.0000025, cache at input price


def test_generated_images_are_priced_per_image_on_top_of_the_tokens() -> None:
    flash_image = Pricing(
        input=Decimal("0.0000003"), output=Decimal("0.0000025"), image=Decimal("0.039")
    )
    usage = TokenUsage(input_tokens=1_000, output_tokens=200, images=2)

    # 1000 * 0.0000003 + 200 * 0.0000025 + 2 * 0.039
    assert cost(flash_image, usage) == Decimal("0.0788")


def test_images_cost_nothing_extra_when_the_model_has_no_image_price() -> None:
    usage = TokenUsage(input_tokens=10, output_tokens=1_290, images=1)
    preview = Pricing(input=Decimal("0.0000003"), output=Decimal("0.00003"))

    assert cost(preview, usage) == Decimal("0.038703")  # the image is in the output tokens


def test_an_image_only_model_costs_the_images() -> None:
    imagen = Pricing(input=Decimal(0), output=Decimal(0), image=Decimal("0.04"))

    assert cost(imagen, TokenUsage(images=4)) == Decimal("0.16")


def test_shipped_prices_give_the_documented_long_context_costs() -> None:
    catalog = load_catalog()
    sonnet = catalog.resolve("anthropic/claude-sonnet-4")
    gemini = catalog.resolve("google/gemini-2.5-pro")
    assert sonnet is not None and gemini is not None
    long_prompt = TokenUsage(input_tokens=300_000, output_tokens=10_000)

    for offer in sonnet.providers:  # anthropic, vertex and bedrock price it alike
        assert cost(offer.pricing, long_prompt) == Decimal("2.025"), offer.provider
    google = next(o for o in gemini.providers if o.provider == "google")
    assert cost(google.pricing, long_prompt) == Decimal("0.9")  # 300000*2.5e-6 + 10000*15e-6
    assert cost(google.pricing, TokenUsage(input_tokens=100_000, output_tokens=10_000)) == Decimal(
        "0.225"
    )
