"""The list-price cost of a generation, exact in Decimal (never floats)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tollgate_common.money import ZERO

from tollgate_router.catalog.catalog import Pricing


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Token counts as the provider reported them (OpenAI semantics).

    ``input_tokens`` includes the cached and cache-write tokens; ``output_tokens`` includes the
    reasoning tokens. ``images`` counts generated images priced by the image; their tokens, if
    the provider reports any, are not also in ``output_tokens``.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    images: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def cost(pricing: Pricing | None, usage: TokenUsage) -> Decimal:
    """USD at list price. The prompt size (``input_tokens``, cached and cache-write tokens
    included) picks the long-context tier, whose prices then apply to the whole generation.
    Uncached input at ``input``, cache reads at ``input_cache_read``, cache writes at
    ``input_cache_write`` (both falling back to ``input``), output (reasoning included) at
    ``output``, each generated image at ``image``. No pricing (a free model) costs zero."""
    if pricing is None:
        return ZERO
    prices = pricing.for_prompt(usage.input_tokens)
    cached = max(0, min(usage.cached_input_tokens, usage.input_tokens))
    written = max(0, min(usage.cache_write_tokens, usage.input_tokens - cached))
    uncached = max(0, usage.input_tokens) - cached - written
    read_price = prices.input if prices.input_cache_read is None else prices.input_cache_read
    write_price = prices.input if prices.input_cache_write is None else prices.input_cache_write
    images = ZERO if prices.image is None else max(0, usage.images) * prices.image
    return (
        uncached * prices.input
        + cached * read_price
        + written * write_price
        + max(0, usage.output_tokens) * prices.output
        + images
    )
