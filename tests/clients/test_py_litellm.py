"""The LiteLLM client's ``vercel_ai_gateway/`` route pointed at Tollgate (``api_base`` and
``api_key``, nothing else): completion, streaming, tool calls with their follow-up turn, and
``litellm.embedding``."""

from __future__ import annotations

import json
from types import ModuleType

import pytest

from tests.fakes.embedding_vectors import fake_vector
from tests.support.catalog import ANTHROPIC_MODEL
from tests.support.py_clients import (
    CHAT_MODEL,
    EMBEDDING_MODEL,
    QUESTION,
    WEATHER_TOOL,
    Gateway,
    call_arguments,
    gateway,
    sent,
    tool_results,
)
from tests.support.upstreams import Upstream

__all__ = ["gateway"]

ROUTE = "vercel_ai_gateway/"


@pytest.fixture
def litellm(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """LiteLLM with its bundled model-cost map: by default its import fetches the map from
    the internet, which this machine cannot reach (the fetch falls back, slowly)."""
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    return litellm


def test_completion_answers_with_the_providers_reply(
    litellm: ModuleType, gateway: Gateway, fresh_upstream: Upstream
) -> None:
    response = litellm.completion(
        model=ROUTE + CHAT_MODEL,
        messages=[{"role": "user", "content": "Hello from LiteLLM"}],
        api_base=gateway.base_url,
        api_key=gateway.api_key,
    )

    assert response.choices[0].message.content == "Echo: Hello from LiteLLM"
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.prompt_tokens == 3 and response.usage.completion_tokens == 4
    [body] = sent(fresh_upstream, "/chat/completions")
    assert body["model"] == "gpt-4o"
    assert body["messages"] == [{"role": "user", "content": "Hello from LiteLLM"}]


def test_streaming_yields_the_reply_piece_by_piece(
    litellm: ModuleType, gateway: Gateway, fresh_upstream: Upstream
) -> None:
    chunks = list(
        litellm.completion(
            model=ROUTE + CHAT_MODEL,
            messages=[{"role": "user", "content": "count one two three"}],
            api_base=gateway.base_url,
            api_key=gateway.api_key,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: count one two three"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage = [u for c in chunks if (u := getattr(c, "usage", None)) is not None]
    assert usage and usage[-1].prompt_tokens == 4 and usage[-1].completion_tokens == 5


def test_tool_calls_and_the_follow_up_turn(
    litellm: ModuleType, gateway: Gateway, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    fresh_upstream.script(reply="It is sunny in Paris.")
    tools = [{"type": "function", "function": WEATHER_TOOL}]
    messages: list[dict[str, object]] = [{"role": "user", "content": QUESTION}]
    options = {"api_base": gateway.base_url, "api_key": gateway.api_key, "tools": tools}

    asked = litellm.completion(model=ROUTE + CHAT_MODEL, messages=messages, **options)

    assert asked.choices[0].finish_reason == "tool_calls"
    [call] = asked.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages.append(asked.choices[0].message.model_dump())
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 24 °C"})
    answer = litellm.completion(model=ROUTE + CHAT_MODEL, messages=messages, **options)

    assert answer.choices[0].message.content == "It is sunny in Paris."
    first, follow_up = sent(fresh_upstream, "/chat/completions")
    assert first["tools"] == tools
    assert call_arguments(follow_up) == [("get_weather", {"city": "Paris"})]
    assert tool_results(follow_up) == [(call.id, "sunny, 24 °C")]


def test_streamed_tool_calls(
    litellm: ModuleType, gateway: Gateway, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(
        tool_calls=[
            {"name": "get_weather", "arguments": {"city": "Paris"}},
            {"name": "get_weather", "arguments": {"city": "Rome"}},
        ]
    )
    chunks = list(
        litellm.completion(
            model=ROUTE + CHAT_MODEL,
            messages=[{"role": "user", "content": QUESTION}],
            api_base=gateway.base_url,
            api_key=gateway.api_key,
            tools=[{"type": "function", "function": WEATHER_TOOL}],
            stream=True,
        )
    )

    whole = litellm.stream_chunk_builder(chunks)
    calls = whole.choices[0].message.tool_calls
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Rome"}),
    ]
    assert whole.choices[0].finish_reason == "tool_calls"


def test_embedding_returns_the_providers_vectors(
    litellm: ModuleType, gateway: Gateway, fresh_upstream: Upstream
) -> None:
    texts = ["the quick brown fox", "jumps over the lazy dog"]

    response = litellm.embedding(
        model=ROUTE + EMBEDDING_MODEL,
        input=texts,
        api_base=gateway.base_url,
        api_key=gateway.api_key,
    )

    assert [d["embedding"] for d in response.data] == [fake_vector(t, 1536) for t in texts]
    assert response.usage.prompt_tokens == 9
    [body] = sent(fresh_upstream, "/embeddings")
    assert body["input"] == texts and body["model"] == "text-embedding-3-small"


async def test_async_streaming(
    litellm: ModuleType, gateway: Gateway, fresh_upstream: Upstream
) -> None:
    stream = await litellm.acompletion(
        model=ROUTE + CHAT_MODEL,
        messages=[{"role": "user", "content": "async four five"}],
        api_base=gateway.base_url,
        api_key=gateway.api_key,
        stream=True,
    )

    pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]

    assert "".join(pieces) == "Echo: async four five"


def test_errors_reach_the_caller_as_litellms_exceptions(
    litellm: ModuleType, gateway: Gateway, fresh_upstream: Upstream
) -> None:
    messages = [{"role": "user", "content": "Hello"}]

    with pytest.raises(litellm.NotFoundError) as missing:
        litellm.completion(
            model=ROUTE + "openai/no-such-model",
            messages=messages,
            api_base=gateway.base_url,
            api_key=gateway.api_key,
        )
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(
            model=ROUTE + CHAT_MODEL,
            messages=messages,
            api_base=gateway.base_url,
            api_key="not-a-tollgate-key",
        )

    assert "no-such-model" in str(missing.value)
    assert sent(fresh_upstream, "/chat/completions") == []


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_reasoning_comes_back_as_reasoning_content(
    litellm: ModuleType, gateway: Gateway, fresh_anthropic: Upstream, stream: bool
) -> None:
    fresh_anthropic.script(reply="Yes.", thinking="Let me think about it.")

    response = litellm.completion(
        model=ROUTE + ANTHROPIC_MODEL,
        messages=[{"role": "user", "content": "Is Paris in France?"}],
        api_base=gateway.base_url,
        api_key=gateway.api_key,
        extra_body={"reasoning": {"max_tokens": 2000}},
        stream=stream,
    )

    if stream:
        deltas = [c.choices[0].delta for c in response if c.choices]
        content = "".join(d.content or "" for d in deltas)
        reasoning = "".join(getattr(d, "reasoning_content", None) or "" for d in deltas)
    else:
        message = response.choices[0].message
        content, reasoning = message.content, message.reasoning_content
    assert (content, reasoning) == ("Yes.", "Let me think about it.")
    [sent_body] = sent(fresh_anthropic, "/messages")
    assert sent_body["thinking"] == {"type": "enabled", "budget_tokens": 2000}


def test_gateway_routing_options_reach_tollgate(
    litellm: ModuleType, gateway: Gateway, fresh_upstream: Upstream
) -> None:
    """LiteLLM passes ``providerOptions`` on this route as a body field (its Vercel config)."""
    options = {"api_base": gateway.base_url, "api_key": gateway.api_key}
    messages = [{"role": "user", "content": "Hello"}]

    with pytest.raises(litellm.BadRequestError, match="only"):
        litellm.completion(
            model=ROUTE + CHAT_MODEL,
            messages=messages,
            providerOptions={"gateway": {"only": ["anthropic"]}},
            **options,
        )
    served = litellm.completion(
        model=ROUTE + CHAT_MODEL,
        messages=messages,
        providerOptions={"gateway": {"only": ["openai"]}},
        **options,
    )

    assert served.choices[0].message.content == "Echo: Hello"
    assert len(sent(fresh_upstream, "/chat/completions")) == 1
