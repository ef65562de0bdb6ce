"""Anthropic and Google are served: their adapters are registered for their wire protocols and
their system credentials come from the documented environment variables."""

from __future__ import annotations

import pytest
from tollgate_router.credentials.system import load_system_credentials
from tollgate_router.providers import build_adapters
from tollgate_router.providers.anthropic import AnthropicMessagesAdapter
from tollgate_router.providers.gemini import GeminiAdapter
from tollgate_router.providers.http_client import HttpClient


async def test_anthropic_and_google_have_their_own_adapters() -> None:
    async with HttpClient() as session:
        adapters = build_adapters(session)

        assert isinstance(adapters.for_provider("anthropic"), AnthropicMessagesAdapter)
        assert isinstance(adapters.for_provider("google"), GeminiAdapter)
        # A catalog entry's own wire protocol still wins.
        assert adapters.for_provider("my-claude-box", "anthropic-messages") is (
            adapters.anthropic_messages
        )
        assert adapters.for_provider("vertex") is None  # not built yet


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"ANTHROPIC_API_KEY": "sk-ant-usual", "GOOGLE_GENERATIVE_AI_API_KEY": "AIza-usual"},
            {
                "anthropic": ("https://api.anthropic.com/v1", "sk-ant-usual"),
                "google": ("https://generativelanguage.googleapis.com/v1beta", "AIza-usual"),
            },
        ),
        (
            {
                "ANTHROPIC_API_KEY": "sk-ant-usual",
                "TOLLGATE_PROVIDER_ANTHROPIC_API_KEY": "sk-ant-tollgate",
                "TOLLGATE_PROVIDER_ANTHROPIC_BASE_URL": "http://127.0.0.1:9001/v1/",
                "TOLLGATE_PROVIDER_GOOGLE_API_KEY": "AIza-tollgate",
                "TOLLGATE_PROVIDER_GOOGLE_BASE_URL": "http://127.0.0.1:9002/v1beta",
            },
            {
                "anthropic": ("http://127.0.0.1:9001/v1", "sk-ant-tollgate"),
                "google": ("http://127.0.0.1:9002/v1beta", "AIza-tollgate"),
            },
        ),
    ],
)
def test_system_credentials_from_the_environment(
    environ: dict[str, str], expected: dict[str, tuple[str, str]]
) -> None:
    credentials = load_system_credentials(["anthropic", "google"], environ)

    found = {
        provider: (credential.base_url, credential.api_key)
        for provider, credential in credentials.by_provider.items()
    }
    assert found == expected
    assert "sk-ant" not in repr(credentials)
