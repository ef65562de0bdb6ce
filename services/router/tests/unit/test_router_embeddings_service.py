"""EmbeddingService with scripted adapters: the model must be an embedding model, routing as for
chat (order, only, fallback models, providers without credentials or without an embeddings API
skipped, and those that embed text only when the input has token arrays), failover on a
provider's 5xx but not on its 400, cost from the catalog's input price, one usage fact per
request."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tollgate.events.v1 import usage_pb2
from tollgate_common.errors import InvalidArgument
from tollgate_router.catalog.catalog import build_catalog
from tollgate_router.domain import ByokKey, Caller, RoutingOptions
from tollgate_router.embeddings.service import (
    EmbeddingRequest,
    EmbeddingService,
    NotAnEmbeddingModel,
)
from tollgate_router.errors import (
    ModelNotFound,
    NoProviderAvailable,
    ProviderFailed,
    ProviderRejected,
)
from tollgate_router.providers import Adapters, EmbeddingCall, EmbeddingResult, ProviderError

from .support import Facts, failover

PRICE = {"input": "0.0000001", "output": "0"}
CATALOG = build_catalog(
    {
        "version": "embed-unit",
        "models": [
            {
                "id": "acme/embed",
                "type": "embedding",
                "providers": [
                    {"provider": p, "provider_model_id": f"embed-{p}", "pricing": PRICE}
                    for p in ("anthropic", "mistral", "openai", "groq", "google")
                ],
            },
            {
                "id": "acme/embed-backup",
                "type": "embedding",
                "providers": [
                    {"provider": "groq", "provider_model_id": "backup-groq", "pricing": PRICE}
                ],
            },
            {
                "id": "acme/chat",
                "providers": [{"provider": "openai", "pricing": PRICE}],
            },
        ],
    }
)
ENV = {
    "OPENAI_API_KEY": "a",
    "GROQ_API_KEY": "b",
    "GOOGLE_GENERATIVE_AI_API_KEY": "c",
    "ANTHROPIC_API_KEY": "d",
}


class Scripted:
    """An embeddings adapter answering from a script: a ProviderError to raise, else vectors."""

    def __init__(self, name: str, takes_token_ids: bool = True) -> None:
        self.takes_token_ids = takes_token_ids
        self.name = name
        self.calls: list[EmbeddingCall] = []
        self.failures: list[ProviderError] = []

    async def embed(self, call: EmbeddingCall) -> EmbeddingResult:
        self.calls.append(call)
        if self.failures:
            raise self.failures.pop(0)
        vectors = tuple((float(len(self.calls)), 0.5) for _ in call.inputs)
        return EmbeddingResult(vectors, 10, response_id=f"{self.name}-resp")


class _Chat:
    async def open(self, call: Any) -> Any:
        raise NotImplementedError


@pytest.fixture
def openai_like() -> Scripted:
    return Scripted("openai-like")


@pytest.fixture
def gemini_like() -> Scripted:
    return Scripted("gemini-like")


@pytest.fixture
def facts() -> Facts:
    return Facts()


@pytest.fixture
def service(openai_like: Scripted, gemini_like: Scripted, facts: Facts) -> EmbeddingService:
    chat = _Chat()
    adapters = Adapters(
        openai_chat=chat,
        anthropic_messages=chat,
        google_gemini=chat,
        openai_embeddings=openai_like,
        google_embeddings=gemini_like,
    )
    return EmbeddingService(failover(CATALOG, adapters, ENV), facts)


def request(model: str = "acme/embed", **kwargs: Any) -> EmbeddingRequest:
    fields: dict[str, Any] = {
        "model": model,
        "inputs": ("hello", (1, 2, 3)),
        "caller": Caller(team_id="team_1", request_id="req_1"),
    }
    fields.update(kwargs)
    return EmbeddingRequest(**fields)


async def test_served_by_the_first_provider_with_an_embeddings_api(
    service: EmbeddingService, openai_like: Scripted, facts: Facts
) -> None:
    result = await service.embed(request(dimensions=64, user="u1"))

    assert (result.provider, result.provider_model_id) == ("openai", "embed-openai")
    assert result.vectors == ((1.0, 0.5), (1.0, 0.5))
    (sent,) = openai_like.calls
    assert sent.inputs == ("hello", (1, 2, 3)) and sent.dimensions == 64 and sent.user == "u1"
    assert sent.api_key == "a"
    routing = result.gateway.routing
    assert not any(a.skipped for a in routing.attempts)  # attempts: providers called only
    skipped = {a.provider: a.error_message for a in routing.skipped}
    assert skipped == {
        "anthropic": "skipped: this provider's API has no embeddings adapter",
        "mistral": "skipped: no credentials for this provider",
    }
    assert routing.resolved_provider == routing.final_provider == "openai"
    assert routing.fallbacks_available == ("groq", "google")
    assert result.gateway.cost == "0.000001"  # 10 input tokens at $0.0000001
    (fact,) = facts.facts
    usage = usage_pb2.UsageRecorded.FromString(fact.payload)
    assert fact.msg_id == usage.generation_id == result.generation_id
    assert result.generation_id.startswith("gen_")
    assert (usage.input_tokens, usage.output_tokens, usage.streamed) == (10, 0, False)
    assert Decimal(usage.cost) == Decimal("0.000001") and usage.team_id == "team_1"
    assert usage.status == "success" and usage.attempts == 1


async def test_a_5xx_fails_over_to_the_next_provider(
    service: EmbeddingService, openai_like: Scripted
) -> None:
    openai_like.failures.append(ProviderError(503, "overloaded", type="api_error"))

    result = await service.embed(request(routing=RoutingOptions(order=("openai", "google"))))

    assert result.provider == "google"
    tried = [(a.provider, a.success, a.status_code) for a in result.gateway.routing.attempts]
    assert ("openai", False, 503) in tried and ("google", True, 200) in tried


async def test_a_provider_400_is_passed_through_without_failover(
    service: EmbeddingService, openai_like: Scripted, gemini_like: Scripted
) -> None:
    openai_like.failures.append(ProviderError(400, "bad dims", type="invalid_request_error"))

    with pytest.raises(ProviderRejected, match="bad dims"):
        await service.embed(request())

    assert gemini_like.calls == []


async def test_every_provider_failing_is_a_provider_error(
    service: EmbeddingService, openai_like: Scripted, gemini_like: Scripted
) -> None:
    openai_like.failures += [ProviderError(500, "x"), ProviderError(500, "y")]
    gemini_like.failures.append(ProviderError(0, "unreachable"))

    with pytest.raises(ProviderFailed):
        await service.embed(request())


async def test_fallback_models_are_tried_after_the_primary(
    service: EmbeddingService, openai_like: Scripted
) -> None:
    # openai and groq both speak the OpenAI API: both fail for the primary model.
    openai_like.failures += [ProviderError(500, "down"), ProviderError(502, "down too")]

    result = await service.embed(
        request(routing=RoutingOptions(only=("openai", "groq"), models=("acme/embed-backup",)))
    )

    assert result.model == "acme/embed-backup" and result.provider_model_id == "backup-groq"


async def test_token_arrays_skip_a_provider_that_embeds_text_only(
    service: EmbeddingService, openai_like: Scripted, gemini_like: Scripted
) -> None:
    gemini_like.takes_token_ids = False
    google_first = RoutingOptions(order=("google", "openai"))

    result = await service.embed(request(routing=google_first))

    assert result.provider == "openai" and gemini_like.calls == []
    assert "google" not in [a.provider for a in result.gateway.routing.attempts]
    [google] = [a for a in result.gateway.routing.skipped if a.provider == "google"]
    assert google.skipped and "text only" in google.error_message
    # Text alone still goes to the text-only provider first.
    texts = await service.embed(request(inputs=("hello",), routing=google_first))
    assert texts.provider == "google" and len(openai_like.calls) == 1


async def test_token_arrays_with_only_text_only_providers_are_a_400(
    service: EmbeddingService, gemini_like: Scripted
) -> None:
    gemini_like.takes_token_ids = False

    with pytest.raises(InvalidArgument, match="token arrays") as refused:
        await service.embed(request(routing=RoutingOptions(only=("google",))))

    assert refused.value.metadata == {"param": "input"} and gemini_like.calls == []


async def test_a_chat_model_is_refused(service: EmbeddingService) -> None:
    with pytest.raises(NotAnEmbeddingModel) as refused:
        await service.embed(request("acme/chat"))

    assert refused.value.reason == "UNSUPPORTED_MODEL"
    assert "cannot create embeddings" in str(refused.value)
    assert refused.value.metadata == {"param": "model"}
    with pytest.raises(NotAnEmbeddingModel) as fallback:
        await service.embed(request(routing=RoutingOptions(models=("acme/chat",))))
    assert fallback.value.metadata == {"param": "models"}


async def test_unknown_model_and_empty_input(service: EmbeddingService) -> None:
    with pytest.raises(ModelNotFound):
        await service.embed(request("acme/nope"))
    with pytest.raises(InvalidArgument):
        await service.embed(request(inputs=()))


async def test_only_without_a_usable_provider(service: EmbeddingService) -> None:
    with pytest.raises(NoProviderAvailable):
        await service.embed(request(routing=RoutingOptions(only=("mistral",))))
    with pytest.raises(InvalidArgument):
        await service.embed(request(routing=RoutingOptions(only=("xai",))))


async def test_a_request_byok_key_is_tried_first_and_charged_nothing(
    service: EmbeddingService, openai_like: Scripted, facts: Facts
) -> None:
    options = RoutingOptions(only=("openai",), byok=(ByokKey("openai", "sk-team-own"),))

    result = await service.embed(request(routing=options))

    (sent,) = openai_like.calls
    assert sent.api_key == "sk-team-own"
    (attempt,) = [a for a in result.gateway.routing.attempts if not a.skipped]
    assert attempt.credential_type == "byok" and attempt.success
    assert result.gateway.cost == "0" and result.gateway.market_cost == "0.000001"
    usage = usage_pb2.UsageRecorded.FromString(facts.facts[0].payload)
    assert usage.credential_type == "byok" and Decimal(usage.cost) == 0
    assert result.gateway.routing.fallbacks_available == ("openai",)  # the system key, once
