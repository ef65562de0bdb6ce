"""The shipped catalog, model resolution and the TOLLGATE_CATALOG_FILE override."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from tollgate_router.catalog.catalog import CatalogError, build_catalog, load_catalog


def _write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_shipped_catalog_loads_with_exact_prices_and_a_version() -> None:
    catalog = load_catalog()

    model = catalog.resolve("openai/gpt-4o-mini")
    assert model is not None
    assert catalog.version == "2026-11-25"
    assert model.type == "language"
    assert model.released == 1721260800  # 2024-07-18T00:00:00Z
    [offer] = model.providers
    assert offer.provider == "openai"
    assert offer.provider_model_id == "gpt-4o-mini"
    assert offer.pricing is not None
    assert offer.pricing.input == Decimal("0.00000015")
    assert offer.pricing.input_cache_read == Decimal("0.000000075")
    assert offer.pricing.input_cache_write is None


def test_bare_model_name_resolves_when_unambiguous() -> None:
    catalog = load_catalog()

    assert catalog.resolve("gpt-4o") is catalog.resolve("openai/gpt-4o")
    assert catalog.resolve("nope/gpt-4o") is None
    assert catalog.resolve("gpt-unknown") is None


def test_bare_model_name_is_refused_when_two_creators_have_it(tmp_path: Path) -> None:
    override = _write(
        tmp_path / "extra.json",
        {"models": [{"id": "azure/gpt-4o", "providers": [{"provider": "azure", "free": True}]}]},
    )
    catalog = load_catalog(override)

    assert catalog.resolve("gpt-4o") is None
    assert catalog.resolve("openai/gpt-4o") is not None
    assert catalog.resolve("azure/gpt-4o") is not None


def test_override_file_changes_an_entry_adds_one_and_the_price_version(tmp_path: Path) -> None:
    override = _write(
        tmp_path / "extra.json",
        {
            "version": "local-1",
            "models": [
                {
                    "id": "openai/gpt-4o-mini",
                    "providers": [
                        {
                            "provider": "openai",
                            "provider_model_id": "gpt-4o-mini-2024-07-18",
                            "pricing": {"input": "0.000001", "output": "0.000002"},
                        },
                        {
                            "provider": "groq",
                            "provider_model_id": "mini",
                            "pricing": {"input": "0.0000001", "output": "0.0000002"},
                        },
                    ],
                },
                {
                    "id": "acme/echo-1",
                    "name": "Echo 1",
                    "providers": [{"provider": "groq", "pricing": {"input": "0", "output": "0"}}],
                },
            ],
        },
    )
    catalog = load_catalog(override)

    mini = catalog.resolve("gpt-4o-mini")
    assert mini is not None
    assert mini.name == "GPT-4o mini"  # kept from the shipped entry
    assert [o.provider for o in mini.providers] == ["openai", "groq"]
    assert mini.providers[0].provider_model_id == "gpt-4o-mini-2024-07-18"
    echo = catalog.resolve("acme/echo-1")
    assert echo is not None
    assert echo.creator == "acme"
    assert echo.providers[0].provider_model_id == "echo-1"
    assert catalog.version == "2026-11-25+local-1"
    assert catalog.resolve("openai/gpt-4o") is not None  # untouched entries stay


def test_override_without_version_gets_a_content_hash(tmp_path: Path) -> None:
    one = _write(tmp_path / "one.json", {"models": []})
    two = _write(
        tmp_path / "two.json",
        {"models": [{"id": "acme/x", "providers": [{"provider": "openai", "free": True}]}]},
    )

    assert load_catalog(one).version != load_catalog(two).version
    assert load_catalog(two).version.startswith("2026-11-25+")


def test_a_provider_without_pricing_is_billable_only_when_free() -> None:
    catalog = build_catalog(
        {
            "version": "v",
            "models": [
                {"id": "acme/paid", "providers": [{"provider": "openai"}]},
                {"id": "acme/free", "free": True, "providers": [{"provider": "openai"}]},
            ],
        }
    )

    paid, free = catalog.resolve("acme/paid"), catalog.resolve("acme/free")
    assert paid is not None and not paid.providers[0].billable
    assert free is not None and free.providers[0].billable


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "no-slash", "providers": []},
        {"id": "acme/x", "providers": [{"provider": "openai", "pricing": {"input": "abc"}}]},
        {"id": "acme/x", "providers": [{"provider": "openai", "pricing": {"input": "1e400x"}}]},
        {
            "id": "acme/x",
            "providers": [{"provider": "openai", "pricing": {"input": "-1", "output": "0"}}],
        },
        {"id": "acme/x", "providers": [{"pricing": {"input": "0", "output": "0"}}]},
    ],
)
def test_malformed_entries_are_rejected(entry: dict[str, object]) -> None:
    with pytest.raises(CatalogError):
        build_catalog({"version": "v", "models": [entry]})


def test_unreadable_override_file_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")

    with pytest.raises(CatalogError):
        load_catalog(broken)
    with pytest.raises(CatalogError):
        load_catalog(tmp_path / "missing.json")


def _offer(**pricing: object) -> dict[str, object]:
    return {"provider": "openai", "pricing": {"input": "0.000001", "output": "0.000002", **pricing}}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"id": "acme/x", "contex_window": 5}, "acme/x: unknown key(s) 'contex_window'"),
        ({"id": "acme/x", "type": "video"}, "acme/x.type"),
        (
            {"id": "acme/x", "providers": [_offer(input_cache_raed="0.1")]},
            "acme/x.providers[0].pricing: unknown key(s) 'input_cache_raed'",
        ),
        (
            {"id": "acme/x", "providers": [{**_offer(), "checked": "yesterday"}]},
            "acme/x.providers[0].checked",
        ),
        (
            {"id": "acme/x", "providers": [{**_offer(), "source": "the docs"}]},
            "acme/x.providers[0].source",
        ),
        (
            {"id": "acme/x", "providers": [_offer(input=0.000001)]},
            "acme/x.providers[0].pricing.input",
        ),
        ({"id": "acme/x", "providers": [_offer(image="-0.04")]}, "negative price"),
        (
            {
                "id": "acme/x",
                "providers": [_offer(tiers=[{"above_input_tokens": 0, "input": "1"}])],
            },
            "tiers[0].above_input_tokens",
        ),
        (
            {
                "id": "acme/x",
                "providers": [
                    _offer(
                        tiers=[
                            {"above_input_tokens": 200000, "input": "0.000002"},
                            {"above_input_tokens": 100000, "input": "0.000003"},
                        ]
                    )
                ],
            },
            "thresholds must ascend",
        ),
        ({"id": "acme/x", "providers": [_offer(), _offer()]}, "listed twice"),
        ({"id": "acme/x", "context_window": "1M"}, "acme/x.context_window"),
        ({"id": "acme/x", "free": "yes"}, "acme/x.free"),
        ({"id": "acme/", "providers": []}, "creator/model"),
    ],
)
def test_schema_errors_name_the_entry_and_the_key(entry: dict[str, object], message: str) -> None:
    with pytest.raises(CatalogError, match=re.escape(message)):
        build_catalog({"version": "v", "models": [entry]})


def test_a_model_listed_twice_in_the_catalog_is_an_error() -> None:
    with pytest.raises(CatalogError, match="listed twice"):
        build_catalog({"models": [{"id": "acme/x"}, {"id": "acme/x"}]})


def test_a_tier_changes_only_the_prices_it_names() -> None:
    catalog = build_catalog(
        {
            "models": [
                {
                    "id": "acme/long",
                    "providers": [
                        _offer(
                            input_cache_read="0.0000001",
                            tiers=[{"above_input_tokens": 1000, "input": "0.000004"}],
                        )
                    ],
                }
            ]
        }
    )

    model = catalog.resolve("acme/long")
    assert model is not None and model.providers[0].pricing is not None
    [tier] = model.providers[0].pricing.tiers
    assert tier.input == Decimal("0.000004")
    assert tier.output == Decimal("0.000002")  # the base output price
    assert tier.input_cache_read == Decimal("0.0000001")


def test_an_override_can_add_a_tiered_image_model_with_its_provenance(tmp_path: Path) -> None:
    override = _write(
        tmp_path / "extra.json",
        {
            "models": [
                {
                    "id": "acme/painter",
                    "type": "image",
                    "tags": ["image-generation"],
                    "output_modalities": ["image"],
                    "providers": [
                        {
                            "provider": "vertex",
                            "provider_model_id": "painter@001",
                            "pricing": {"input": "0", "output": "0", "image": "0.02"},
                            "checked": "2026-11-01",
                            "source": "https://example.com/pricing",
                            "note": "contract price",
                        }
                    ],
                }
            ]
        },
    )

    painter = load_catalog(override).resolve("painter")
    assert painter is not None
    assert painter.type == "image"
    assert painter.tags == ("image-generation",)
    [offer] = painter.providers
    assert offer.pricing is not None and offer.pricing.image == Decimal("0.02")
    assert offer.checked is not None and offer.checked.isoformat() == "2026-11-01"
    assert offer.source == "https://example.com/pricing"


def test_an_alias_resolves_to_its_model_and_its_bare_name_too() -> None:
    catalog = load_catalog()

    sonnet = catalog.resolve("anthropic/claude-sonnet-4")
    assert sonnet is not None
    assert catalog.resolve("anthropic/claude-4-sonnet") is sonnet  # the Vercel docs' older slug
    assert catalog.resolve("claude-4-sonnet") is sonnet
    assert sonnet.aliases == ("anthropic/claude-4-sonnet",)


def test_the_creators_own_api_name_resolves_but_another_providers_does_not() -> None:
    catalog = load_catalog()

    sonnet = catalog.resolve("anthropic/claude-sonnet-4")
    assert catalog.resolve("claude-sonnet-4-20250514") is sonnet  # Anthropic's name for it
    assert catalog.resolve("anthropic.claude-sonnet-4-20250514-v1:0") is None  # Bedrock's


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ([{"id": "acme/a", "aliases": ["acme/b"]}, {"id": "acme/b"}], "already a model id"),
        ([{"id": "acme/a", "aliases": ["x"]}], "not another 'creator/model' id"),
        ([{"id": "acme/a", "aliases": ["acme/a"]}], "not another 'creator/model' id"),
    ],
)
def test_an_alias_must_be_a_new_full_id(models: list[dict[str, object]], message: str) -> None:
    with pytest.raises(CatalogError, match=re.escape(message)):
        build_catalog({"models": models})
