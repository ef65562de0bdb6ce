"""Pydantic AI pointed at Tollgate: an ``OpenAIChatModel`` whose ``OpenAIProvider`` has Tollgate's
``base_url`` and ``api_key`` (nothing else) runs an agent, streams it, calls a tool and embeds;
``VercelProvider`` (whose endpoint is fixed) runs the same agent over a client given Tollgate's
base URL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.embedding_vectors import fake_vector
from tests.support.catalog import ANTHROPIC_MODEL
from tests.support.py_clients import (
    CHAT_MODEL,
    EMBEDDING_MODEL,
    QUESTION,
    Gateway,
    call_arguments,
    gateway,
    sent,
    tool_results,
)
from tests.support.upstreams import Upstream

__all__ = ["gateway"]


def provider(gateway: Gateway) -> Any:
    from pydantic_ai.providers.openai import OpenAIProvider

    return OpenAIProvider(base_url=gateway.base_url, api_key=gateway.api_key)


def agent(gateway: Gateway, model_provider: Any = None) -> Any:
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel

    model = OpenAIChatModel(CHAT_MODEL, provider=model_provider or provider(gateway))
    weather = Agent(model)

    @weather.tool_plain
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return f"sunny in {city}, 24 °C"

    return weather


def test_run_answers_with_the_providers_reply(gateway: Gateway, fresh_upstream: Upstream) -> None:
    result = agent(gateway).run_sync("Hello from Pydantic AI")

    assert result.output == "Echo: Hello from Pydantic AI"
    usage = result.usage
    assert usage.input_tokens == 4 and usage.output_tokens == 5
    [body] = sent(fresh_upstream, "/chat/completions")
    assert body["model"] == "gpt-4o"
    assert body["messages"][-1] == {"role": "user", "content": "Hello from Pydantic AI"}
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather"]


async def test_run_stream_yields_the_reply_piece_by_piece(
    gateway: Gateway, fresh_upstream: Upstream
) -> None:
    async with agent(gateway).run_stream("count one two three") as result:
        pieces = [piece async for piece in result.stream_text(delta=True)]
        usage = result.usage

    assert "".join(pieces) == "Echo: count one two three"
    # Pydantic AI asks for the usage chunk (stream_options.include_usage) and counts it.
    assert usage.input_tokens == 4 and usage.output_tokens == 5
    [body] = sent(fresh_upstream, "/chat/completions")
    assert body["stream"] is True


def test_tool_is_called_and_its_result_answered(gateway: Gateway, fresh_upstream: Upstream) -> None:
    from pydantic_ai.messages import ToolCallPart

    fresh_upstream.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    fresh_upstream.script(reply="It is sunny in Paris.")

    result = agent(gateway).run_sync(QUESTION)

    assert result.output == "It is sunny in Paris."
    [call] = [
        part
        for message in result.all_messages()
        for part in message.parts
        if isinstance(part, ToolCallPart)
    ]
    assert call.tool_name == "get_weather" and call.args_as_dict() == {"city": "Paris"}
    _, follow_up = sent(fresh_upstream, "/chat/completions")
    assert call_arguments(follow_up) == [("get_weather", {"city": "Paris"})]
    assert tool_results(follow_up) == [(call.tool_call_id, "sunny in Paris, 24 °C")]


async def test_streamed_run_calls_the_tool_then_streams_the_answer(
    gateway: Gateway, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Rome"}}])
    fresh_upstream.script(reply="Rome is sunny today.")

    async with agent(gateway).run_stream("What is the weather in Rome?") as result:
        text = await result.get_output()

    assert text == "Rome is sunny today."
    _, follow_up = sent(fresh_upstream, "/chat/completions")
    assert [content for _, content in tool_results(follow_up)] == ["sunny in Rome, 24 °C"]


async def test_embedder_returns_the_providers_vectors(
    gateway: Gateway, fresh_upstream: Upstream
) -> None:
    from pydantic_ai import Embedder
    from pydantic_ai.embeddings.openai import OpenAIEmbeddingModel

    embedder = Embedder(OpenAIEmbeddingModel(EMBEDDING_MODEL, provider=provider(gateway)))
    texts = ["the quick brown fox", "jumps over the lazy dog"]

    result = await embedder.embed_documents(texts)

    assert [list(v) for v in result.embeddings] == [fake_vector(t, 1536) for t in texts]
    assert result.usage.input_tokens == 9
    [body] = sent(fresh_upstream, "/embeddings")
    assert body["input"] == texts and body["model"] == "text-embedding-3-small"


def test_vercel_provider_over_a_client_pointed_at_tollgate(
    gateway: Gateway, fresh_upstream: Upstream
) -> None:
    from openai import AsyncOpenAI
    from pydantic_ai.providers.vercel import VercelProvider

    client = AsyncOpenAI(base_url=gateway.base_url, api_key=gateway.api_key)
    result = agent(gateway, VercelProvider(openai_client=client)).run_sync("Hello, Vercel route")

    assert result.output == "Echo: Hello, Vercel route"
    [body] = sent(fresh_upstream, "/chat/completions")
    assert body["model"] == "gpt-4o"


def test_thinking_setting_brings_back_the_models_reasoning(
    gateway: Gateway, fresh_anthropic: Upstream
) -> None:
    """Pydantic AI sends ``thinking`` only to a model its profile knows can think: with
    ``VercelProvider`` the profile is the vendor's (here Anthropic's), and the setting goes out
    as ``reasoning_effort``, which Tollgate turns into Claude's thinking budget."""
    from openai import AsyncOpenAI
    from pydantic_ai import Agent
    from pydantic_ai.messages import TextPart, ThinkingPart
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.vercel import VercelProvider

    fresh_anthropic.script(reply="Yes.", thinking="Let me think about it.")
    client = AsyncOpenAI(base_url=gateway.base_url, api_key=gateway.api_key)
    model = OpenAIChatModel(ANTHROPIC_MODEL, provider=VercelProvider(openai_client=client))

    result = Agent(model, model_settings={"thinking": "low"}).run_sync("Is Paris in France?")

    parts = [p for p in result.all_messages()[-1].parts if isinstance(p, ThinkingPart | TextPart)]
    assert [(type(p), p.content) for p in parts] == [
        (ThinkingPart, "Let me think about it."),
        (TextPart, "Yes."),
    ]
    [body] = sent(fresh_anthropic, "/messages")
    assert body["thinking"]["type"] == "enabled" and body["thinking"]["budget_tokens"] >= 1024


def test_gateway_routing_options_go_in_extra_body(
    gateway: Gateway, fresh_upstream: Upstream
) -> None:
    from pydantic_ai import Agent
    from pydantic_ai.exceptions import ModelHTTPError
    from pydantic_ai.models.openai import OpenAIChatModel

    def routed(only: list[str]) -> Any:
        options = {"providerOptions": {"gateway": {"only": only}}}
        model = OpenAIChatModel(CHAT_MODEL, provider=provider(gateway))
        return Agent(model, model_settings={"extra_body": options})

    with pytest.raises(ModelHTTPError) as refused:
        routed(["anthropic"]).run_sync("Hello")
    assert refused.value.status_code == 400 and "only" in str(refused.value.body)
    assert routed(["openai"]).run_sync("Hello").output == "Echo: Hello"
    assert len(sent(fresh_upstream, "/chat/completions")) == 1
