"""Candidate order (only / order), skipped providers and the fallback rules."""

from __future__ import annotations

from typing import Any

import pytest
from tollgate_router.catalog.catalog import build_catalog
from tollgate_router.credentials.system import load_system_credentials
from tollgate_router.domain import ByokKey, RoutingOptions
from tollgate_router.providers import Adapters, ProviderError
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.routing.planning import falls_back, passes_through, plan

CATALOG = build_catalog(
    {
        "version": "v",
        "models": [
            {
                "id": "acme/m",
                "providers": [
                    {"provider": p, "pricing": {"input": "0.000001", "output": "0.000002"}}
                    for p in ("openai", "groq", "xai", "anthropic", "mistral")
                ]
                + [{"provider": "deepseek"}],
            }
        ],
    }
)
ENV = {
    "OPENAI_API_KEY": "a",
    "GROQ_API_KEY": "b",
    "XAI_API_KEY": "c",
    "ANTHROPIC_API_KEY": "d",
    "DEEPSEEK_API_KEY": "e",
}


class _Adapter:
    async def open(self, call: Any) -> Any:
        raise NotImplementedError


@pytest.fixture
def adapters() -> Adapters:
    return Adapters(openai_chat=_Adapter())


def test_order_first_then_catalog_order_and_skips(adapters: Adapters) -> None:
    model = CATALOG.resolve("acme/m")
    assert model is not None
    credentials = load_system_credentials(CATALOG.providers(), ENV)

    result = plan([model], RoutingOptions(order=("xai", "groq")), credentials, adapters)

    assert [c.offer.provider for c in result.candidates] == ["xai", "groq", "openai"]
    skipped = {a.provider: a.error_message for a in result.skipped}
    assert skipped == {
        "anthropic": "skipped: no adapter for this provider's API",
        "mistral": "skipped: no credentials for this provider",
        "deepseek": "skipped: no list price in the catalog",
    }
    assert all(a.skipped and not a.success for a in result.skipped)


def test_only_filters_the_providers(adapters: Adapters) -> None:
    model = CATALOG.resolve("acme/m")
    assert model is not None
    credentials = load_system_credentials(CATALOG.providers(), ENV)

    result = plan([model], RoutingOptions(only=("groq", "mistral")), credentials, adapters)

    assert [c.offer.provider for c in result.candidates] == ["groq"]
    assert [a.provider for a in result.skipped] == ["mistral"]


@pytest.mark.parametrize(
    ("status", "fallback", "passthrough"),
    [
        (0, True, False),
        (400, False, True),
        (401, True, False),
        (404, True, True),
        (422, False, True),
        (429, True, False),
        (500, True, False),
        (503, True, False),
    ],
)
def test_which_errors_fall_back_and_which_pass_through(
    status: int, fallback: bool, passthrough: bool
) -> None:
    error = ProviderError(status, "x")

    assert falls_back(error) is fallback
    assert passes_through(error) is passthrough


async def test_adapter_registry_matches_wire_protocols() -> None:
    async with HttpClient() as session:
        from tollgate_router.providers import build_adapters

        adapters = build_adapters(session)
        assert adapters.for_provider("openai") is adapters.openai_chat
        assert adapters.for_provider("groq") is adapters.openai_chat
        assert adapters.for_provider("my-box") is adapters.openai_chat  # compatible by default
        assert adapters.for_provider("anthropic") is adapters.anthropic_messages is not None
        assert adapters.for_provider("google") is adapters.google_gemini is not None
        assert adapters.for_provider("bedrock") is None
        assert adapters.for_provider("anthropic", "openai-chat") is adapters.openai_chat


def test_request_byok_keys_come_first_and_make_keyless_providers_usable(
    adapters: Adapters,
) -> None:
    model = CATALOG.resolve("acme/m")
    assert model is not None
    credentials = load_system_credentials(CATALOG.providers(), ENV)
    options = RoutingOptions(
        only=("groq", "mistral"),
        order=("mistral", "groq"),
        byok=(ByokKey("groq", "team-groq-key"), ByokKey("mistral", "team-mistral-key")),
    )

    result = plan([model], options, credentials, adapters)

    tried = [(c.offer.provider, c.credential_type, c.credential.api_key) for c in result.candidates]
    assert tried == [
        ("mistral", "byok", "team-mistral-key"),  # no system key for mistral: BYOK only
        ("groq", "byok", "team-groq-key"),
        ("groq", "system", "b"),
    ]
    assert result.candidates[0].credential.base_url == "https://api.mistral.ai/v1"
    assert "team-groq-key" not in repr(options)
