"""The Anthropic Messages API (``/v1/messages``) through the whole suite (Envoy → edge → router
→ fake provider) with the official ``anthropic`` SDK pointed at the gateway root, on an Anthropic,
an OpenAI and a Gemini model: answers, streams framed as Anthropic frames them, a tool round
trip, thinking (Claude's signed thinking going back intact), ``count_tokens``, Anthropic's error
envelope, and every generation billed and in the request log as a chat completion is."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types import (
    MessageParam,
    RawContentBlockDeltaEvent,
    RawMessageDeltaEvent,
    TextDelta,
    ToolParam,
)
from tollgate_cli.stack import Stack

from tests.support.api import generation
from tests.support.catalog import ANTHROPIC_MODEL, GEMINI_MODEL
from tests.support.polling import eventually
from tests.support.py_clients import Gateway, activity_row
from tests.support.upstreams import Upstream

OPENAI_MODEL = "openai/gpt-4o-mini"
QUESTION: list[MessageParam] = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER: ToolParam = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
THOUGHT = "Paris is in France"


@dataclass(frozen=True)
class Provider:
    name: str
    model: str
    fixture: str

    def script_reply(self, upstream: Upstream, reply: str) -> None:
        upstream.script(reply=reply)

    def script_call(self, upstream: Upstream, name: str, arguments: dict[str, Any]) -> None:
        """The fake answers by calling ``name``, in its own wire format."""
        if self.name == "openai":
            upstream.script(tool_calls=[{"name": name, "arguments": arguments}])
        elif self.name == "anthropic":
            upstream.script(reply="", tool_use=[{"name": name, "input": arguments}])
        else:
            upstream.script(reply="", function_call=[{"name": name, "args": arguments}])


PROVIDERS = [
    Provider("anthropic", ANTHROPIC_MODEL, "fresh_anthropic"),
    Provider("openai", OPENAI_MODEL, "fresh_upstream"),
    Provider("google", GEMINI_MODEL, "fresh_gemini"),
]


@pytest.fixture(params=PROVIDERS, ids=[p.name for p in PROVIDERS])
def provider(request: pytest.FixtureRequest) -> tuple[Provider, Upstream]:
    chosen: Provider = request.param
    return chosen, request.getfixturevalue(chosen.fixture)


def root(stack: Stack) -> str:
    """The gateway root, as ``ANTHROPIC_BASE_URL`` takes it (the SDK adds ``/v1/messages``)."""
    return stack.base_url.removesuffix("/v1")


def claude(stack: Stack, key: str | None = None) -> anthropic.Anthropic:
    """The anthropic SDK pointed at the suite (its key in ``x-api-key``, as the SDK sends it)."""
    return anthropic.Anthropic(
        base_url=root(stack), api_key=key or stack.bootstrap_key(), max_retries=0
    )


def billed(stack: Stack, generation_id: str) -> dict[str, Any]:
    record: dict[str, Any] = eventually(lambda: generation(stack, generation_id))
    return record


def logged(stack: Stack, generation_id: str) -> dict[str, Any]:
    return activity_row(Gateway(stack.base_url, stack.bootstrap_key()), generation_id)


# -- answers ----------------------------------------------------------------------------------


def test_a_message_on_every_model_is_answered_billed_and_logged(
    stack: Stack, provider: tuple[Provider, Upstream]
) -> None:
    chosen, upstream = provider
    chosen.script_reply(upstream, "It is sunny.")

    message = claude(stack).messages.create(
        model=chosen.model,
        max_tokens=300,
        system="Be brief.",
        messages=QUESTION,
        metadata={"user_id": "user-42"},
    )

    assert message.type == "message" and message.role == "assistant"
    assert message.model == chosen.model
    assert [(b.type, getattr(b, "text", None)) for b in message.content] == [
        ("text", "It is sunny.")
    ]
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    record = billed(stack, message.id)
    assert record["provider_name"] == chosen.name
    assert Decimal(str(record["total_cost"])) > 0
    row = logged(stack, message.id)
    assert (row["model"], row["status"], row["streamed"]) == (chosen.model, "success", False)
    assert row["surface"] == "messages"
    assert row["inputTokens"] == record["native_tokens_prompt"] > 0


def test_a_stream_on_every_model_is_framed_as_anthropic_frames_it(
    stack: Stack, provider: tuple[Provider, Upstream]
) -> None:
    chosen, upstream = provider
    chosen.script_reply(upstream, "It is sunny.")
    api = claude(stack)

    events = list(
        api.messages.create(
            model=chosen.model,
            max_tokens=300,
            messages=QUESTION,
            stream=True,
        )
    )

    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds[1] == "content_block_start"
    assert kinds[-3] == "content_block_stop"
    text = "".join(
        e.delta.text
        for e in events
        if isinstance(e, RawContentBlockDeltaEvent) and isinstance(e.delta, TextDelta)
    )
    assert text == "It is sunny."
    [delta] = [e for e in events if isinstance(e, RawMessageDeltaEvent)]
    assert delta.delta.stop_reason == "end_turn" and delta.usage.output_tokens > 0

    upstream.reset()
    chosen.script_reply(upstream, "Rain later.")
    with api.messages.stream(
        model=chosen.model,
        max_tokens=300,
        messages=QUESTION,
    ) as stream:
        assert "".join(stream.text_stream) == "Rain later."
        final = stream.get_final_message()
    assert final.stop_reason == "end_turn" and final.usage.input_tokens > 0
    assert billed(stack, final.id)["provider_name"] == chosen.name
    assert logged(stack, final.id)["streamed"] is True


def test_the_stream_on_the_wire_names_each_event_and_pings(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    fresh_anthropic.script(reply="Hi there.")
    body = {"model": ANTHROPIC_MODEL, "max_tokens": 50, "messages": QUESTION, "stream": True}

    with httpx.stream(
        "POST",
        f"{stack.base_url}/messages",
        json=body,
        headers={"x-api-key": stack.bootstrap_key()},
    ) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        frames = "".join(reply.iter_text()).strip().split("\n\n")

    names = []
    for frame in frames:
        event, data = frame.split("\n")
        name = event.removeprefix("event: ")
        assert json.loads(data.removeprefix("data: "))["type"] == name
        names.append(name)
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert set(names[3:-3]) == {"content_block_delta"}
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]


# -- tools ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_a_tool_round_trip_on_every_model(
    stack: Stack, provider: tuple[Provider, Upstream], stream: bool
) -> None:
    chosen, upstream = provider
    chosen.script_call(upstream, "get_weather", {"city": "Paris"})
    api = claude(stack)
    ask: dict[str, Any] = {
        "model": chosen.model,
        "max_tokens": 300,
        "tools": [WEATHER],
        "tool_choice": {"type": "any"},
    }

    if stream:
        with api.messages.stream(messages=QUESTION, **ask) as events:
            first = events.get_final_message()
    else:
        first = api.messages.create(messages=QUESTION, **ask)

    assert first.stop_reason == "tool_use"
    [call] = [b for b in first.content if b.type == "tool_use"]
    assert (call.name, call.input) == ("get_weather", {"city": "Paris"})
    assert call.id
    chosen.script_reply(upstream, "It is sunny in Paris.")

    follow_up = api.messages.create(
        messages=[
            *QUESTION,
            {"role": "assistant", "content": first.content},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": call.id, "content": "sunny, 24 C"}
                ],
            },
        ],
        **ask | {"tool_choice": {"type": "auto"}},
    )

    assert [getattr(b, "text", None) for b in follow_up.content] == ["It is sunny in Paris."]
    # The provider got the call and its result in its own shape (its fake rejects what the
    # real API rejects, e.g. a result without its call).
    sent = json.dumps(upstream.requests()[-1]["body"])
    assert "sunny, 24 C" in sent and "Paris" in sent
    if chosen.name == "google":  # Gemini's thought signature went back on its call
        assert "thoughtSignature" in sent


# -- thinking ---------------------------------------------------------------------------------


def test_claude_signed_thinking_goes_back_intact_with_the_tool_result(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    """Extended thinking with tools: the next turn starts with Claude's own signed thinking, which
    the client sends back as the SDK gave it (the fake refuses a signature it never made)."""
    fresh_anthropic.script(
        reply="", thinking=THOUGHT, tool_use={"name": "get_weather", "input": {"city": "Paris"}}
    )
    api = claude(stack)
    ask: dict[str, Any] = {
        "model": ANTHROPIC_MODEL,
        "max_tokens": 4000,
        "tools": [WEATHER],
        "thinking": {"type": "enabled", "budget_tokens": 2000},
    }

    with api.messages.stream(messages=QUESTION, **ask) as stream:
        deltas = [e.delta.type for e in stream if e.type == "content_block_delta"]
        first = stream.get_final_message()

    assert "thinking_delta" in deltas and "signature_delta" in deltas
    assert [b.type for b in first.content] == ["thinking", "tool_use"]
    thinking = first.content[0]
    assert thinking.type == "thinking"
    assert thinking.thinking == THOUGHT and thinking.signature
    assert fresh_anthropic.requests()[0]["body"]["thinking"] == {  # type: ignore[index]
        "type": "enabled",
        "budget_tokens": 2000,
    }
    call = first.content[1]
    assert call.type == "tool_use"
    fresh_anthropic.script(reply="Sunny.")

    follow_up = api.messages.create(
        messages=[
            *QUESTION,
            {"role": "assistant", "content": first.content},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}],
            },
        ],
        **ask,
    )

    assert [getattr(b, "text", None) for b in follow_up.content] == ["Sunny."]
    turn: Any = fresh_anthropic.requests()[-1]["body"]["messages"][1]  # type: ignore[index]
    assert [b["type"] for b in turn["content"]] == ["thinking", "tool_use"]
    assert turn["content"][0]["signature"] == thinking.signature


# -- count_tokens -----------------------------------------------------------------------------


def test_count_tokens_on_every_model_calls_no_provider(
    stack: Stack, provider: tuple[Provider, Upstream]
) -> None:
    chosen, upstream = provider
    api = claude(stack)

    short = api.messages.count_tokens(model=chosen.model, messages=QUESTION)
    longer = api.messages.count_tokens(
        model=chosen.model,
        system="Answer in French, with the temperature in Celsius.",
        messages=QUESTION,
        tools=[WEATHER],
    )

    assert 0 < short.input_tokens < longer.input_tokens
    assert upstream.requests() == []


def test_count_tokens_of_an_unknown_model_is_a_404(stack: Stack) -> None:
    with pytest.raises(anthropic.NotFoundError):
        claude(stack).messages.count_tokens(model="acme/no-such-model", messages=QUESTION)


# -- auth and errors --------------------------------------------------------------------------


def test_bearer_tokens_work_too(stack: Stack, fresh_anthropic: Upstream) -> None:
    api = anthropic.Anthropic(base_url=root(stack), auth_token=stack.bootstrap_key(), max_retries=0)
    message = api.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=100,
        messages=QUESTION,
    )
    assert message.content[0].type == "text"


def asked(fields: dict[str, Any]) -> dict[str, Any]:
    return {"max_tokens": 10, "messages": QUESTION, **fields}


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"messages": QUESTION}, "max_tokens"),
        ({"max_tokens": 10, "messages": QUESTION, "container": "x"}, "container"),
        ({"max_tokens": 10, "messages": []}, "messages"),
        ({"max_tokens": 10, "messages": QUESTION, "temperature": 3}, "temperature"),
        (
            {
                "max_tokens": 10,
                "messages": QUESTION,
                "tools": [{"type": "web_search_20250305", "name": "web_search"}],
            },
            "tools.0",
        ),
        (
            {
                "max_tokens": 10,
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image",
                                "source": {
                                    "type": "base64",
                                    "media_type": "image/png",
                                    "data": "not base64!",
                                },
                            }
                        ],
                    }
                ],
            },
            "base64",
        ),
        (asked({"output_config": {"format": {"type": "json_schema"}}}), "output_config.format"),
        (asked({"output_config": {"effort": "extreme"}}), "output_config.effort"),
        (asked({"thinking": {"type": "sometimes"}}), "thinking.type"),
        (asked({"context_management": ["clear"]}), "context_management"),
        (asked({"mcp_servers": []}), "mcp_servers: Extra inputs are not permitted"),
        (
            {"max_tokens": 10, "messages": [{"role": "tool", "content": "x"}]},
            "messages.0.role: Input should be 'user' or 'assistant'",  # Anthropic's words
        ),
    ],
    ids=[
        *("no-max-tokens", "unknown-field", "no-messages", "temperature", "server-tool", "image"),
        *("format", "effort", "thinking-type", "context-management", "mcp-servers", "role"),
    ],
)
def test_bad_input_is_a_400_in_anthropics_envelope_and_calls_no_provider(
    stack: Stack, fresh_anthropic: Upstream, body: dict[str, Any], names: str
) -> None:
    reply = httpx.post(
        f"{stack.base_url}/messages",
        json={"model": ANTHROPIC_MODEL, **body},
        headers={"x-api-key": stack.bootstrap_key()},
    )

    assert reply.status_code == 400
    error = reply.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert names in error["error"]["message"]
    assert fresh_anthropic.requests() == []


def test_errors_raise_the_sdks_own_classes(stack: Stack) -> None:
    with pytest.raises(anthropic.NotFoundError) as missing:
        claude(stack).messages.create(
            model="acme/no-such-model",
            max_tokens=10,
            messages=QUESTION,
        )
    assert missing.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]

    with pytest.raises(anthropic.AuthenticationError) as refused:
        claude(stack, key="tg-not-a-key").messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=10,
            messages=QUESTION,
        )
    assert refused.value.body == {  # Envoy's answer, in Anthropic's envelope on this path
        "type": "error",
        "error": {"type": "authentication_error", "message": "Incorrect API key provided."},
    }


def test_anthropics_own_model_name_resolves_to_its_catalog_model(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    """What Claude Code sends unless told otherwise: Anthropic's dated model id."""
    fresh_anthropic.script(reply="Hi.")

    message = claude(stack).messages.create(
        model="claude-haiku-4-5-20251001", max_tokens=50, messages=QUESTION
    )

    assert message.model == "claude-haiku-4-5-20251001"
    assert billed(stack, message.id)["model"] == "anthropic/claude-haiku-4.5"
    assert fresh_anthropic.requests()[0]["body"]["model"] == "claude-haiku-4-5-20251001"  # type: ignore[index]


# -- retries ----------------------------------------------------------------------------------


def test_a_retried_message_with_an_idempotency_key_is_answered_again_without_a_provider_call(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    fresh_anthropic.script(reply="Sunny, 21 degrees.")
    keyed: dict[str, Any] = {"extra_headers": {"Idempotency-Key": "messages-retry-1"}}

    def ask() -> tuple[Any, str | None]:
        raw = claude(stack).messages.with_raw_response.create(
            model=ANTHROPIC_MODEL, max_tokens=200, messages=QUESTION, **keyed
        )
        return raw.parse(), raw.headers.get("Idempotent-Replayed")

    def stream() -> tuple[list[str], str | None]:
        with claude(stack).messages.with_streaming_response.create(
            model=ANTHROPIC_MODEL,
            max_tokens=200,
            messages=QUESTION,
            stream=True,
            extra_headers={"Idempotency-Key": "messages-retry-2"},
        ) as raw:
            return list(raw.iter_lines()), raw.headers.get("Idempotent-Replayed")

    (first, replayed), (again, replayed_again) = ask(), ask()
    assert (replayed, replayed_again) == (None, "true")
    assert again.id == first.id and again.content == first.content and again.usage == first.usage
    lines, streamed_replay = stream()
    lines_again, streamed_replay_again = stream()
    assert (streamed_replay, streamed_replay_again) == (None, "true")
    assert lines_again == lines and "event: message_stop" in lines
    # Two questions reached the provider; the repeats were answered from what was kept.
    assert len(fresh_anthropic.requests()) == 2
    assert Decimal(str(billed(stack, first.id)["total_cost"])) > 0

    # The same key with another body is refused in Anthropic's envelope, and calls no provider.
    with pytest.raises(anthropic.UnprocessableEntityError) as refused:
        claude(stack).messages.create(
            model=ANTHROPIC_MODEL, max_tokens=201, messages=QUESTION, **keyed
        )
    assert refused.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert len(fresh_anthropic.requests()) == 2
