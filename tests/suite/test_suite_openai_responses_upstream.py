"""An OpenAI model the catalog marks ``"wire_protocol": "openai-responses"`` is called through
OpenAI's own Responses API (``POST /v1/responses`` at the fake OpenAI, which answers in OpenAI's
real wire format and records what it received), whichever door the request came in by: chat
completions (plain, stream, tool calls), Anthropic's messages and OpenAI's responses. Usage —
cached and reasoning tokens included — is billed exactly, and reasoning items go up again with
their ``encrypted_content`` unchanged (the fake refuses one it did not issue), through
``previous_response_id`` and through a client that keeps the conversation (``store: false``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import anthropic
import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.api import client, generation
from tests.support.catalog import OPENAI_RESPONSES_MODEL, OPENAI_RESPONSES_PRICE
from tests.support.polling import eventually
from tests.support.tools import WEATHER as WEATHER_TOOL
from tests.support.upstreams import Upstream

MODEL = OPENAI_RESPONSES_MODEL
PRICE = {k: Decimal(v) for k, v in OPENAI_RESPONSES_PRICE.items()}
QUESTION = "What is the weather in Paris?"
WEATHER: Any = WEATHER_TOOL
WEATHER_FUNCTION: Any = {"type": "function", **WEATHER["function"]}


def received(upstream: Upstream) -> list[dict[str, Any]]:
    """What OpenAI received: each request's path and JSON body."""
    return [{"path": r["path"], "body": r["body"]} for r in upstream.requests()]


def only_call(upstream: Upstream) -> dict[str, Any]:
    [call] = received(upstream)
    assert call["path"] == "/v1/responses"  # not /v1/chat/completions
    body: dict[str, Any] = call["body"]
    assert body["model"] == "gpt-5-suite" and body["store"] is False
    assert "messages" not in body and "previous_response_id" not in body
    return body


def cost(prompt: int, cached: int, completion: int) -> Decimal:
    return (
        (prompt - cached) * PRICE["input"]
        + cached * PRICE["input_cache_read"]
        + completion * PRICE["output"]
    )


def billed(stack: Stack, generation_id: str) -> dict[str, Any]:
    record: dict[str, Any] = eventually(lambda: generation(stack, generation_id))
    return record


def gen_of(response_id: str) -> str:
    return "gen_" + response_id.removeprefix("resp_")


# -- chat completions -------------------------------------------------------------------------


def test_a_chat_completion_is_answered_through_openais_responses_api(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    api: Any = client(stack)
    completion = api.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi there"},
        ],
        max_tokens=50,
        temperature=0.5,
        response_format={"type": "json_schema", "json_schema": {"name": "place", "schema": schema}},
    )

    assert completion.model == MODEL
    assert completion.choices[0].message.content == "Echo: hi there"
    assert completion.choices[0].finish_reason == "stop"
    body = only_call(fresh_upstream)
    assert body["input"] == [
        {"type": "message", "role": "system", "content": "Be brief."},
        {"type": "message", "role": "user", "content": "hi there"},
    ]
    assert (body["max_output_tokens"], body["temperature"], body["stream"]) == (50, 0.5, False)
    assert body["text"] == {"format": {"type": "json_schema", "name": "place", "schema": schema}}
    usage = completion.usage
    assert usage is not None
    # 4 input words (system and user), 3 output words.
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 3, 7)
    record = billed(stack, completion.id)
    assert record["provider_name"] == "openai"
    assert Decimal(str(record["total_cost"])) == cost(4, 0, 3)


def test_a_chat_stream_is_read_from_openais_semantic_events(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(reply="It is sunny in Paris.", cached_tokens=3)

    chunks = list(
        client(stack).chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": QUESTION}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "It is sunny in Paris."
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]
    assert only_call(fresh_upstream)["stream"] is True
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens_details is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (6, 5)
    assert usage.prompt_tokens_details.cached_tokens == 3
    record = billed(stack, chunks[0].id)
    assert Decimal(str(record["total_cost"])) == cost(6, 3, 5)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_chat_tool_call_round_trip_becomes_function_call_items(
    stack: Stack, fresh_upstream: Upstream, stream: bool
) -> None:
    fresh_upstream.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    api = client(stack)
    question: Any = [{"role": "user", "content": QUESTION}]

    if stream:
        calls: dict[int, dict[str, str]] = {}
        finish = ""
        chunk: Any
        for chunk in api.chat.completions.create(
            model=MODEL, messages=question, tools=[WEATHER], stream=True
        ):
            for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
                call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                call["id"] += delta.id or ""
                call["name"] += (delta.function and delta.function.name) or ""
                call["arguments"] += (delta.function and delta.function.arguments) or ""
            if chunk.choices and chunk.choices[0].finish_reason:
                finish = chunk.choices[0].finish_reason
        [made] = calls.values()
    else:
        completion = api.chat.completions.create(model=MODEL, messages=question, tools=[WEATHER])
        finish = completion.choices[0].finish_reason
        [tool_call] = completion.choices[0].message.tool_calls or []
        assert tool_call.type == "function"
        made = {
            "id": tool_call.id,
            "name": tool_call.function.name,
            "arguments": tool_call.function.arguments,
        }

    assert finish == "tool_calls"
    assert made["name"] == "get_weather" and json.loads(made["arguments"]) == {"city": "Paris"}
    assert made["id"].startswith("call_")  # OpenAI's own call id
    first = only_call(fresh_upstream)
    assert first["tools"] == [WEATHER_FUNCTION]
    fresh_upstream.reset()
    fresh_upstream.script(reply="Sunny.")

    answer = api.chat.completions.create(
        model=MODEL,
        tools=[WEATHER],
        messages=[
            *question,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": made["id"],
                        "type": "function",
                        "function": {"name": made["name"], "arguments": made["arguments"]},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": made["id"], "content": "sunny, 24 C"},
        ],
    )

    assert answer.choices[0].message.content == "Sunny."
    assert only_call(fresh_upstream)["input"][1:] == [
        {
            "type": "function_call",
            "call_id": made["id"],
            "name": "get_weather",
            "arguments": made["arguments"],
        },
        {"type": "function_call_output", "call_id": made["id"], "output": "sunny, 24 C"},
    ]


# -- Anthropic's messages ---------------------------------------------------------------------


def test_a_message_and_its_stream_are_answered_through_openais_responses_api(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    claude = anthropic.Anthropic(
        base_url=stack.base_url.removesuffix("/v1"), api_key=stack.bootstrap_key(), max_retries=0
    )
    fresh_upstream.script(reply="It is sunny.", times=2)

    message = claude.messages.create(
        model=MODEL,
        max_tokens=100,
        system="Be brief.",
        messages=[{"role": "user", "content": QUESTION}],
    )

    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "It is sunny."  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (8, 3)
    body = only_call(fresh_upstream)
    assert body["max_output_tokens"] == 100
    assert body["input"][0] == {"type": "message", "role": "system", "content": "Be brief."}
    fresh_upstream.reset()

    with claude.messages.stream(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": QUESTION}]
    ) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert streamed == "Echo: " + QUESTION
    assert final.stop_reason == "end_turn"
    assert only_call(fresh_upstream)["stream"] is True


def test_thinking_with_a_tool_round_trips_openais_reasoning_through_messages(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    claude = anthropic.Anthropic(
        base_url=stack.base_url.removesuffix("/v1"), api_key=stack.bootstrap_key(), max_retries=0
    )
    fresh_upstream.script(
        reasoning_tokens=5,
        reasoning_summary="Paris is in France",
        tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}],
    )
    ask: Any = {
        "model": MODEL,
        "max_tokens": 4000,
        "thinking": {"type": "enabled", "budget_tokens": 2000},
        "tools": [{"name": "get_weather", "input_schema": WEATHER["function"]["parameters"]}],
    }
    question: Any = {"role": "user", "content": QUESTION}

    first = claude.messages.create(messages=[question], **ask)

    assert [b.type for b in first.content] == ["thinking", "tool_use"]
    thinking, tool_use = first.content
    assert thinking.type == "thinking" and thinking.thinking == "Paris is in France"
    assert thinking.signature.startswith("openai-responses-v1#rs_")
    assert tool_use.type == "tool_use" and tool_use.input == {"city": "Paris"}
    assert first.stop_reason == "tool_use"
    assert only_call(fresh_upstream)["reasoning"] == {"effort": "low", "summary": "auto"}
    fresh_upstream.reset()
    fresh_upstream.script(reply="Sunny.")

    answer = claude.messages.create(
        messages=[
            question,
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": tool_use.id, "content": "sunny"}
                ],
            },
        ],
        **ask,
    )

    assert [getattr(b, "text", None) for b in answer.content] == ["Sunny."]
    items = only_call(fresh_upstream)["input"]
    assert [i["type"] for i in items] == [
        "message", "reasoning", "function_call", "function_call_output"
    ]  # fmt: skip
    assert thinking.signature == (
        f"openai-responses-v1#{items[1]['id']}:{items[1]['encrypted_content']}"
    )


# -- OpenAI's responses -----------------------------------------------------------------------


def test_reasoning_is_billed_and_its_encrypted_content_round_trips(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(
        reply="Sunny.", reasoning_tokens=7, reasoning_summary="Paris is in France", cached_tokens=2
    )
    api = client(stack)

    first = api.responses.create(
        model=MODEL, input=QUESTION, reasoning={"effort": "high", "summary": "auto"}
    )

    assert [item.type for item in first.output] == ["reasoning", "message"]
    reasoning = first.output[0]
    assert reasoning.type == "reasoning"
    assert [s.text for s in reasoning.summary] == ["Paris is in France"]
    assert first.output_text == "Sunny."
    sent = only_call(fresh_upstream)
    assert sent["reasoning"] == {"effort": "high", "summary": "auto"}
    assert sent["include"] == ["reasoning.encrypted_content"]
    usage = first.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens) == (6, 1 + 7)
    assert usage.input_tokens_details.cached_tokens == 2
    assert usage.output_tokens_details.reasoning_tokens == 7
    record = billed(stack, gen_of(first.id))
    assert record["native_tokens_reasoning"] == 7 and record["native_tokens_cached"] == 2
    assert Decimal(str(record["total_cost"])) == cost(6, 2, 8)
    fresh_upstream.reset()

    # The next turn by previous_response_id: Tollgate's stored conversation, OpenAI's reasoning
    # item in it as OpenAI made it (the fake verifies its encrypted content).
    follow_up = api.responses.create(
        model=MODEL, previous_response_id=first.id, input="And tomorrow?"
    )

    assert follow_up.output_text == "Echo: And tomorrow?"
    items = only_call(fresh_upstream)["input"]
    assert [i["type"] for i in items] == ["message", "reasoning", "message", "message"]
    item = items[1]
    assert item["id"].startswith("rs_") and item["encrypted_content"].startswith("gAAAAA")
    assert item["summary"] == [{"type": "summary_text", "text": "Paris is in France"}]
    assert (
        reasoning.encrypted_content
        == f"openai-responses-v1#{item['id']}:{item['encrypted_content']}"
    )
    fresh_upstream.reset()

    # A client keeping the conversation itself (store: false) sends the items back as they came.
    kept: Any = [
        {"role": "user", "content": QUESTION},
        *[o.model_dump(exclude_none=True) for o in first.output],
        {"role": "user", "content": "And tomorrow?"},
    ]
    stateless = api.responses.create(model=MODEL, input=kept, store=False)

    assert stateless.output_text == "Echo: And tomorrow?"
    assert only_call(fresh_upstream)["input"][1] == item
    with pytest.raises(openai.NotFoundError):
        api.responses.retrieve(stateless.id)


def test_a_response_stream_with_a_function_call_on_openais_responses_api(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])

    events = list(
        client(stack).responses.create(
            model=MODEL, input=QUESTION, tools=[WEATHER_FUNCTION], stream=True
        )
    )

    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.function_call_arguments.delta" in kinds
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert json.loads(done.arguments) == {"city": "Paris"}
    final: Any = events[-1]
    [call] = final.response.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert call.call_id.startswith("call_")
    body = only_call(fresh_upstream)
    assert body["stream"] is True and body["tools"] == [WEATHER_FUNCTION]


def test_the_output_limit_and_openais_errors_come_back_as_openai_said(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    api = client(stack)
    fresh_upstream.script(reply="one two three four five")

    cut = api.responses.create(model=MODEL, input=QUESTION, max_output_tokens=16)

    assert cut.output_text == "one two three four five"  # 16 is room enough
    assert only_call(fresh_upstream)["max_output_tokens"] == 16
    fresh_upstream.reset()
    fresh_upstream.script(reply=" ".join(["word"] * 20))

    limited = api.responses.create(model=MODEL, input=QUESTION, max_output_tokens=16)

    assert limited.status == "incomplete"
    assert limited.incomplete_details is not None
    assert limited.incomplete_details.reason == "max_output_tokens"
    fresh_upstream.reset()
    fresh_upstream.script(
        status=400,
        error={"message": "Unsupported value: 'temperature'.", "type": "invalid_request_error",
               "code": "unsupported_value", "param": "temperature"},
    )  # fmt: skip

    with pytest.raises(openai.BadRequestError) as raised:
        api.responses.create(model=MODEL, input=QUESTION, temperature=0.2)

    assert "temperature" in raised.value.message
