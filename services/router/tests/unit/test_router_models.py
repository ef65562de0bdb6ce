"""The router's ``Model`` message for a catalog entry (what ``ListModels``/``GetModel`` send)."""

from __future__ import annotations

from tollgate.router.v1 import router_pb2 as pb
from tollgate_router.catalog.catalog import build_catalog, load_catalog
from tollgate_router.convert import model_to_proto as model_of


def test_a_tiered_model_carries_its_tiers_tags_and_every_offer() -> None:
    sonnet = load_catalog().resolve("anthropic/claude-sonnet-4")
    assert sonnet is not None

    message = model_of(sonnet)

    assert message.id == "anthropic/claude-sonnet-4"
    assert message.type == "language"
    assert "reasoning" in message.tags
    assert message.pricing.input == "0.000003"
    assert message.pricing.input_cache_write == "0.00000375"
    [tier] = message.pricing.tiers
    assert (tier.above_input_tokens, tier.input, tier.output) == (200_000, "0.000006", "0.0000225")
    assert [(o.provider, o.provider_model_id) for o in message.offers] == [
        ("anthropic", "claude-sonnet-4-20250514"),
        ("vertex", "claude-sonnet-4@20250514"),
        ("bedrock", "anthropic.claude-sonnet-4-20250514-v1:0"),
    ]
    assert all(
        o.checked == "2026-11-25" and o.source.startswith("https://") for o in message.offers
    )
    assert list(message.providers) == ["anthropic", "vertex", "bedrock"]


def test_an_image_price_reaches_the_message() -> None:
    imagen = load_catalog().resolve("google/imagen-4.0-generate-001")
    assert imagen is not None

    message = model_of(imagen)

    assert message.type == "image"
    assert message.pricing.image == "0.04"


def test_pricing_is_the_first_priced_offer_zero_when_free_and_unset_when_unpriced() -> None:
    catalog = build_catalog(
        {
            "models": [
                {
                    "id": "acme/mixed",
                    "providers": [
                        {"provider": "parasail"},
                        {
                            "provider": "groq",
                            "pricing": {"input": "0.000001", "output": "0.000002"},
                        },
                    ],
                },
                {"id": "acme/free", "free": True, "providers": [{"provider": "openai"}]},
                {"id": "acme/unpriced", "providers": [{"provider": "openai"}]},
            ]
        }
    )

    def message(model_id: str) -> pb.Model:
        model = catalog.resolve(model_id)
        assert model is not None
        return model_of(model)

    mixed = message("acme/mixed")
    assert mixed.pricing.input == "0.000001"
    assert not mixed.offers[0].HasField("pricing")
    assert mixed.offers[1].HasField("pricing")
    free = message("acme/free")
    assert free.HasField("pricing")
    assert (free.pricing.input, free.pricing.output) == ("0", "0")
    assert free.offers[0].free
    assert not message("acme/unpriced").HasField("pricing")
