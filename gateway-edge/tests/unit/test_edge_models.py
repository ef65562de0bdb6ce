"""How a catalog entry renders in ``GET /v1/models`` (the Vercel model list's shape)."""

from __future__ import annotations

from tollgate.router.v1 import router_pb2
from tollgate_edge.models import model_object

SONNET_4 = router_pb2.Model(
    id="anthropic/claude-sonnet-4",
    name="Claude Sonnet 4",
    description="Sonnet",
    creator="anthropic",
    type="language",
    context_window=1_000_000,
    max_output_tokens=64_000,
    released=1_747_872_000,
    tags=["reasoning", "tool-use"],
    pricing=router_pb2.Pricing(
        input="0.000003",
        output="0.000015",
        input_cache_read="0.0000003",
        input_cache_write="0.00000375",
        tiers=[
            router_pb2.PriceTier(
                above_input_tokens=200_000,
                input="0.000006",
                output="0.0000225",
                input_cache_read="0.0000006",
                input_cache_write="0.0000075",
            )
        ],
    ),
    providers=["anthropic", "vertex", "bedrock"],
)


def test_a_tiered_model_lists_base_prices_and_vercel_style_tiers() -> None:
    body = model_object(SONNET_4)

    assert body == {
        "id": "anthropic/claude-sonnet-4",
        "object": "model",
        "created": 1_747_872_000,
        "owned_by": "anthropic",
        "name": "Claude Sonnet 4",
        "description": "Sonnet",
        "context_window": 1_000_000,
        "max_tokens": 64_000,
        "type": "language",
        "tags": ["reasoning", "tool-use"],
        "pricing": {
            "input": "0.000003",
            "output": "0.000015",
            "input_cache_read": "0.0000003",
            "input_cache_write": "0.00000375",
            "input_tiers": [
                {"cost": "0.000003", "min": 0, "max": 200_001},
                {"cost": "0.000006", "min": 200_001},
            ],
            "output_tiers": [
                {"cost": "0.000015", "min": 0, "max": 200_001},
                {"cost": "0.0000225", "min": 200_001},
            ],
            "input_cache_read_tiers": [
                {"cost": "0.0000003", "min": 0, "max": 200_001},
                {"cost": "0.0000006", "min": 200_001},
            ],
            "input_cache_write_tiers": [
                {"cost": "0.00000375", "min": 0, "max": 200_001},
                {"cost": "0.0000075", "min": 200_001},
            ],
        },
    }


def test_an_embedding_model_has_only_an_input_price() -> None:
    model = router_pb2.Model(
        id="openai/text-embedding-3-small",
        creator="openai",
        type="embedding",
        pricing=router_pb2.Pricing(input="0.00000002", output="0"),
    )

    assert model_object(model)["pricing"] == {"input": "0.00000002"}


def test_an_image_model_is_priced_per_image() -> None:
    model = router_pb2.Model(
        id="google/imagen-4.0-generate-001",
        creator="google",
        type="image",
        pricing=router_pb2.Pricing(input="0", output="0", image="0.04"),
    )

    assert model_object(model)["pricing"] == {"image": "0.04"}


def test_a_language_model_that_generates_images_shows_both_prices() -> None:
    model = router_pb2.Model(
        id="google/gemini-2.5-flash-image",
        creator="google",
        type="language",
        pricing=router_pb2.Pricing(input="0.0000003", output="0.0000025", image="0.039"),
    )

    assert model_object(model)["pricing"] == {
        "input": "0.0000003",
        "output": "0.0000025",
        "image": "0.039",
    }


def test_a_free_model_shows_zero_prices_and_an_unpriced_one_none() -> None:
    free = router_pb2.Model(
        id="acme/free", type="language", pricing=router_pb2.Pricing(input="0", output="0")
    )
    unpriced = router_pb2.Model(id="acme/unpriced", type="language")

    assert model_object(free)["pricing"] == {"input": "0", "output": "0"}
    assert "pricing" not in model_object(unpriced)
