"""The shipped catalog's data: the models the Vercel docs name, on the providers that serve
them under their real ids, every price dated and sourced."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from tollgate_router.catalog.catalog import Catalog, ModelInfo, load_catalog

# The Vercel documentation's provider table.
PROVIDER_SLUGS = {
    "alibaba", "anthropic", "azure", "baseten", "bedrock", "cerebras", "cohere", "deepinfra",
    "deepseek", "fireworks", "google", "groq", "inception", "meituan", "minimax", "mistral",
    "moonshotai", "morph", "novita", "openai", "parasail", "perplexity", "vercel", "vertex",
    "voyage", "xai", "zai",
}  # fmt: skip

NAMED_IN_THE_DOCS = [
    "anthropic/claude-sonnet-4",
    "openai/gpt-5",
    "openai/gpt-4o",
    "openai/gpt-4.1-mini",
    "openai/gpt-5-nano",
    "openai/o3-mini",
    "openai/gpt-oss-120b",
    "openai/text-embedding-3-small",
    "xai/grok-4",
    "xai/grok-3",
    "google/gemini-2.5-flash",
    "google/gemini-2.0-flash",
    "google/gemini-2.5-flash-image-preview",
    "moonshotai/kimi-k2",
    "zai/glm-4.6",
    "zai/glm-4.5",
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _model(catalog: Catalog, model_id: str) -> ModelInfo:
    model = catalog.resolve(model_id)
    assert model is not None, model_id
    return model


@pytest.mark.parametrize("model_id", NAMED_IN_THE_DOCS)
def test_every_model_the_docs_name_is_listed_and_priced(catalog: Catalog, model_id: str) -> None:
    model = _model(catalog, model_id)
    assert any(offer.pricing is not None for offer in model.providers)


def test_claude_sonnet_4_is_served_by_anthropic_vertex_and_bedrock_under_their_ids(
    catalog: Catalog,
) -> None:
    model = _model(catalog, "anthropic/claude-sonnet-4")

    assert {o.provider: o.provider_model_id for o in model.providers} == {
        "anthropic": "claude-sonnet-4-20250514",
        "vertex": "claude-sonnet-4@20250514",
        "bedrock": "anthropic.claude-sonnet-4-20250514-v1:0",
    }
    for offer in model.providers:
        assert offer.pricing is not None
        [tier] = offer.pricing.tiers
        assert tier.above_input_tokens == 200_000
        assert tier.input == 2 * offer.pricing.input
        assert tier.output == Decimal("1.5") * offer.pricing.output


def test_gemini_2_5_pro_has_a_long_context_tier(catalog: Catalog) -> None:
    google = next(o for o in _model(catalog, "google/gemini-2.5-pro").providers)

    assert google.provider == "google"
    assert google.pricing is not None
    assert [t.above_input_tokens for t in google.pricing.tiers] == [200_000]


@pytest.mark.parametrize(
    ("model_id", "at_least"), [("openai/gpt-oss-120b", 5), ("moonshotai/kimi-k2", 4)]
)
def test_open_weight_models_are_served_by_several_inference_providers(
    catalog: Catalog, model_id: str, at_least: int
) -> None:
    inference = {"groq", "cerebras", "fireworks", "baseten", "deepinfra", "novita", "parasail"}
    model = _model(catalog, model_id)

    priced = {o.provider for o in model.providers if o.pricing is not None}
    assert len(priced & inference) >= at_least
    ids = {o.provider: o.provider_model_id for o in model.providers}
    if model_id == "openai/gpt-oss-120b":
        assert ids["groq"] == "openai/gpt-oss-120b"
        assert ids["fireworks"] == "accounts/fireworks/models/gpt-oss-120b"
        assert ids["cerebras"] == "gpt-oss-120b"


def test_every_price_has_the_date_it_was_checked_and_its_source(catalog: Catalog) -> None:
    for model in catalog.models:
        for offer in model.providers:
            where = f"{model.id} on {offer.provider}"
            assert offer.provider in PROVIDER_SLUGS, where
            if offer.pricing is None:
                assert offer.note, f"{where}: an unpriced offer says why"
                continue
            assert offer.checked is not None, where
            assert re.match(r"https://", offer.source), where


def test_model_types_and_image_and_embedding_prices(catalog: Catalog) -> None:
    types = {m.type for m in catalog.models}
    assert types == {"language", "embedding", "image"}
    for model in catalog.models:
        if model.type == "image":
            assert all(o.pricing and o.pricing.image for o in model.providers), model.id
        if model.type == "embedding":
            assert all(o.pricing and o.pricing.output == 0 for o in model.providers), model.id
    flash_image = _model(catalog, "google/gemini-2.5-flash-image")
    assert "image" in flash_image.output_modalities
    assert flash_image.providers[0].pricing is not None
    assert flash_image.providers[0].pricing.image == Decimal("0.039")


def test_bare_ids_from_the_docs_resolve(catalog: Catalog) -> None:
    assert catalog.resolve("gemini-2.0-flash") is _model(catalog, "google/gemini-2.0-flash")
    assert catalog.resolve("claude-sonnet-4") is _model(catalog, "anthropic/claude-sonnet-4")
    assert catalog.resolve("gpt-oss-120b") is _model(catalog, "openai/gpt-oss-120b")


def test_the_integration_suites_models_keep_their_prices(catalog: Catalog) -> None:
    for model_id in ("openai/gpt-4o", "openai/gpt-4o-mini", "openai/gpt-4.1-mini"):
        [openai] = _model(catalog, model_id).providers
        assert openai.provider == "openai"
        assert openai.pricing is not None
    mini = _model(catalog, "openai/gpt-4o-mini").providers[0].pricing
    assert mini is not None
    assert (mini.input, mini.output) == (Decimal("0.00000015"), Decimal("0.0000006"))
