"""The official OpenAI SDK through the whole suite (Envoy → edge → router → fake provider) to
``anthropic/...`` and ``google/...`` models: the Anthropic Messages and Gemini adapters as a
user sees them, ``anthropic-beta`` reaching Anthropic, and usage (cache, reasoning) billed."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.api import client
from tests.support.catalog import ANTHROPIC_MODEL, ANTHROPIC_PRICE, GEMINI_MODEL, GEMINI_PRICE
from tests.support.upstreams import Upstream

PROMPT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "hello there suite"},
]


def generation(stack: Stack, generation_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """Billing's record of a generation (facts travel asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = httpx.get(
            f"{stack.base_url}/generation",
            params={"id": generation_id},
            headers={"authorization": f"Bearer {stack.bootstrap_key()}"},
        )
        if reply.status_code != 404 or time.monotonic() > deadline:
            reply.raise_for_status()
            data: dict[str, Any] = reply.json()["data"]
            return data
        time.sleep(0.1)


def gateway_of(message_or_delta: Any) -> dict[str, Any]:
    extra: dict[str, Any] = message_or_delta.model_extra or {}
    gateway: dict[str, Any] = extra["provider_metadata"]["gateway"]
    return gateway


def stream_text(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


# -- Anthropic --------------------------------------------------------------------------------


def test_anthropic_non_streaming_with_cache_tokens_billed_at_cache_prices(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    fresh_anthropic.script(cache_read_tokens=1000, cache_write_tokens=200)

    completion = client(stack).chat.completions.create(model=ANTHROPIC_MODEL, messages=PROMPT)

    assert completion.model == ANTHROPIC_MODEL
    assert completion.choices[0].message.content == "Echo: hello there suite"
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    # 5 uncached prompt words (system + user) + 1000 read + 200 written; 4 reply words.
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1205, 4, 1209)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 1000
    assert usage.prompt_tokens_details.cache_write_tokens == 200
    routing = gateway_of(completion.choices[0].message)["routing"]
    assert routing["finalProvider"] == "anthropic"
    assert routing["attempts"][0]["providerApiModelId"] == "claude-sonnet-4-20250514"

    [sent] = fresh_anthropic.requests()
    body: Any = sent["body"]
    assert body["model"] == "claude-sonnet-4-20250514"
    assert body["system"] == [{"type": "text", "text": "Be brief."}]
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hello there suite"}]}
    ]
    assert body["max_tokens"] == 64000  # the catalog's max output: Anthropic requires a limit
    headers: Any = sent["headers"]
    assert headers["anthropic-version"] == "2023-06-01"
    assert "anthropic-beta" not in headers

    record = generation(stack, completion.id)
    price = {k: Decimal(v) for k, v in ANTHROPIC_PRICE.items()}
    expected = (
        5 * price["input"]
        + 1000 * price["input_cache_read"]
        + 200 * price["input_cache_write"]
        + 4 * price["output"]
    )
    assert record["provider_name"] == "anthropic"
    assert Decimal(str(record["total_cost"])) == pytest.approx(expected, rel=Decimal("1e-9"))


def test_anthropic_streaming_is_framed_like_openai(stack: Stack, fresh_anthropic: Upstream) -> None:
    fresh_anthropic.script(cache_read_tokens=10)

    chunks = list(
        client(stack).chat.completions.create(
            model=ANTHROPIC_MODEL,
            messages=PROMPT,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    assert chunks[0].choices[0].delta.role == "assistant"
    assert stream_text(chunks) == "Echo: hello there suite"
    finishing = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in finishing] == ["stop"]
    assert gateway_of(finishing[0].choices[0].delta)["routing"]["finalProvider"] == "anthropic"
    usage = chunks[-1].usage
    assert usage is not None and chunks[-1].choices == []
    assert (usage.prompt_tokens, usage.completion_tokens) == (15, 4)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 10
    [sent] = fresh_anthropic.requests()
    assert sent["body"]["stream"] is True  # type: ignore[index]


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_beta_reaches_anthropic(
    stack: Stack, fresh_anthropic: Upstream, stream: bool
) -> None:
    reply = client(stack).chat.completions.create(
        model=ANTHROPIC_MODEL,
        messages=PROMPT,
        stream=stream,
        extra_headers={"anthropic-beta": "context-1m-2025-08-07"},
    )
    if stream:
        assert stream_text(list(reply)) == "Echo: hello there suite"  # type: ignore[arg-type]

    [sent] = fresh_anthropic.requests()
    headers: Any = sent["headers"]
    assert headers["anthropic-beta"] == "context-1m-2025-08-07"


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_thinking_and_tool_use_do_not_break_a_generation(
    stack: Stack, fresh_anthropic: Upstream, stream: bool
) -> None:
    """Reasoning and tool-call events reach the router; until they are relayed to the client
    the text and the finish reason still arrive intact."""
    fresh_anthropic.script(
        reply="Checking.",
        thinking="I should look it up",
        tool_use={"name": "get_weather", "input": {"city": "Paris"}},
    )
    api = client(stack)

    if stream:
        chunks = list(
            api.chat.completions.create(model=ANTHROPIC_MODEL, messages=PROMPT, stream=True)
        )
        text = stream_text(chunks)
        finish = [
            c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
        ]
    else:
        completion = api.chat.completions.create(model=ANTHROPIC_MODEL, messages=PROMPT)
        text = completion.choices[0].message.content or ""
        finish = [completion.choices[0].finish_reason]

    assert text == "Checking."
    assert finish == ["tool_calls"]


def test_an_anthropic_400_reaches_the_caller_as_a_400(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    fresh_anthropic.script(
        status=400,
        error={"type": "invalid_request_error", "message": "temperature: range: 0..1"},
    )

    with pytest.raises(openai.BadRequestError) as raised:
        client(stack).chat.completions.create(
            model=ANTHROPIC_MODEL, messages=PROMPT, temperature=1.5
        )

    assert "temperature: range: 0..1" in str(raised.value)
    [sent] = fresh_anthropic.requests()
    assert sent["body"]["temperature"] == 1.5  # type: ignore[index]


@pytest.mark.parametrize("script", [{"status": 529}, {"error_after_start": 529}])
def test_an_overloaded_anthropic_is_an_error_before_the_stream_starts(
    stack: Stack, fresh_anthropic: Upstream, script: dict[str, Any]
) -> None:
    """An overload as HTTP 529 or as an ``error`` event right after ``message_start`` both fail
    before anything reaches the client (so another provider could still take over)."""
    fresh_anthropic.script(**script)

    with pytest.raises(openai.APIStatusError) as raised:
        client(stack).chat.completions.create(model=ANTHROPIC_MODEL, messages=PROMPT, stream=True)

    assert raised.value.status_code >= 500


# -- Gemini -----------------------------------------------------------------------------------


def test_gemini_non_streaming_with_thoughts_and_cache(stack: Stack, fresh_gemini: Upstream) -> None:
    fresh_gemini.script(thoughts="Let me think", thoughts_tokens=30, cached_tokens=100)

    completion = client(stack).chat.completions.create(
        model=GEMINI_MODEL,
        messages=PROMPT,
        extra_headers={"anthropic-beta": "context-1m-2025-08-07"},
    )

    assert completion.model == GEMINI_MODEL
    assert completion.choices[0].message.content == "Echo: hello there suite"
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    # 5 prompt words + 100 cached; 4 reply words + 30 thought tokens (output includes them).
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (105, 34, 139)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 100
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 30

    [sent] = fresh_gemini.requests()
    assert sent["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    body: Any = sent["body"]
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert body["contents"] == [{"role": "user", "parts": [{"text": "hello there suite"}]}]
    headers = {k.lower() for k in sent["headers"]}  # type: ignore[union-attr]
    assert "anthropic-beta" not in headers  # Anthropic's header goes to Anthropic only

    record = generation(stack, completion.id)
    price = {k: Decimal(v) for k, v in GEMINI_PRICE.items()}
    expected = 5 * price["input"] + 100 * price["input_cache_read"] + 34 * price["output"]
    assert record["provider_name"] == "google"
    assert Decimal(str(record["total_cost"])) == pytest.approx(expected, rel=Decimal("1e-9"))


def test_gemini_streaming_is_framed_like_openai(stack: Stack, fresh_gemini: Upstream) -> None:
    chunks = list(
        client(stack).chat.completions.create(
            model=GEMINI_MODEL,
            messages=PROMPT,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    assert chunks[0].choices[0].delta.role == "assistant"
    assert stream_text(chunks) == "Echo: hello there suite"
    finishing = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in finishing] == ["stop"]
    assert gateway_of(finishing[0].choices[0].delta)["routing"]["finalProvider"] == "google"
    usage = chunks[-1].usage
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (5, 4)
    [sent] = fresh_gemini.requests()
    assert sent["path"] == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert sent["query"] == {"alt": "sse"}


@pytest.mark.parametrize("stream", [False, True])
def test_a_gemini_function_call_finishes_with_tool_calls(
    stack: Stack, fresh_gemini: Upstream, stream: bool
) -> None:
    fresh_gemini.script(reply="", function_call={"name": "get_weather", "args": {"city": "Paris"}})
    api = client(stack)

    if stream:
        chunks = list(api.chat.completions.create(model=GEMINI_MODEL, messages=PROMPT, stream=True))
        finish = [
            c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
        ]
    else:
        completion = api.chat.completions.create(model=GEMINI_MODEL, messages=PROMPT)
        finish = [completion.choices[0].finish_reason]

    assert finish == ["tool_calls"]
