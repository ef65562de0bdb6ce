"""The router builds one failover engine and hands it to every service that routes: chat and
embeddings report to the same provider health, and the credential test answers with the
engine's catalog, base URLs and adapters while leaving that health alone (a team's key under
test says nothing about the provider)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from tollgate_router.catalog.catalog import build_catalog
from tollgate_router.credentials.check import CredentialTester
from tollgate_router.domain import GenerationRequest, Message
from tollgate_router.embeddings.service import EmbeddingRequest, EmbeddingService
from tollgate_router.errors import ProviderFailed
from tollgate_router.events import FinishReason, ProviderEvent, ResponseStart, TextDelta
from tollgate_router.generation.service import GenerationService
from tollgate_router.providers import Adapters, EmbeddingCall, EmbeddingResult, ProviderError

from .support import Facts, failover

PRICE = {"input": "0.000001", "output": "0.000002"}
CATALOG = build_catalog(
    {
        "version": "one-engine",
        "models": [
            {
                "id": "acme/chat",
                "providers": [
                    {"provider": "openai", "provider_model_id": "chat-1", "pricing": PRICE}
                ],
            },
            {
                "id": "acme/embed",
                "type": "embedding",
                "providers": [
                    {"provider": "openai", "provider_model_id": "embed-1", "pricing": PRICE}
                ],
            },
        ],
    }
)
ENV = {"OPENAI_API_KEY": "sk-system"}


class Chat:
    """A chat adapter: ``error`` raised when a stream is opened, else a short answer."""

    def __init__(self, error: ProviderError | None = None) -> None:
        self.error = error
        self.keys: list[str] = []

    async def open(self, call: Any) -> Chat:
        self.keys.append(call.api_key)
        if self.error is not None:
            raise self.error
        return self

    async def events(self) -> AsyncGenerator[ProviderEvent, None]:
        yield ResponseStart("r1", "m", 0, "")
        yield TextDelta("pong")
        yield FinishReason("stop")

    async def aclose(self) -> None:
        return None


class Embedder:
    takes_token_ids = True

    async def embed(self, call: EmbeddingCall) -> EmbeddingResult:
        raise ProviderError(503, "overloaded")


async def test_chat_and_embeddings_report_to_the_one_engines_provider_health() -> None:
    engine = failover(CATALOG, Adapters(openai_chat=Chat(), openai_embeddings=Embedder()), ENV)
    chat, embeddings = GenerationService(engine, Facts()), EmbeddingService(engine, Facts())

    request = GenerationRequest("acme/chat", (Message("user", "hi"),), stream=True)
    _ = [event async for event in chat.generate(request)]
    with pytest.raises(ProviderFailed):
        await embeddings.embed(EmbeddingRequest("acme/embed", ("hi",)))

    assert engine.stats.health("openai", "chat-1").samples == 1
    assert engine.stats.health("openai", "embed-1").success_rate < 1.0


async def test_the_credential_test_uses_the_engine_but_not_its_provider_health() -> None:
    refusing = Chat(ProviderError(401, "bad key", type="authentication_error"))
    engine = failover(CATALOG, Adapters(openai_chat=refusing), ENV)
    tester = CredentialTester(engine, stored_secret=_nothing_stored)

    outcome = await tester.test("team_1", "openai", {"apiKey": "sk-team"})

    assert (outcome.ok, outcome.status_code) == (False, 401)
    assert outcome.request["baseUrl"] == "https://api.openai.com/v1"
    assert refusing.keys == ["sk-team"]
    assert engine.stats.health("openai", "chat-1").samples == 0

    answering = failover(CATALOG, Adapters(openai_chat=Chat()), ENV)
    outcome = await CredentialTester(answering, _nothing_stored).test(
        "team_1", "openai", {"apiKey": "sk-team"}
    )
    assert outcome.ok and outcome.response["text"] == "pong"
    assert answering.stats.health("openai", "chat-1").samples == 0


async def _nothing_stored(team_id: str, provider: str) -> None:
    return None
