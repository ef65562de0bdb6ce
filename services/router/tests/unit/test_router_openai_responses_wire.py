"""OpenAI's Responses API wire format: the router's request as Responses input items and
parameters, and the response object / semantic SSE events back as the router's events."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from tollgate_router.domain import (
    FunctionTool,
    GenerationParams,
    Message,
    Reasoning,
    ReasoningDetail,
    ResponseFormat,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolOptions,
)
from tollgate_router.events import (
    FinishReason,
    ProviderEvent,
    ReasoningDelta,
    ResponseStart,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from tollgate_router.providers import ProviderError, UpstreamCall, planned_output
from tollgate_router.providers.openai_responses_wire import (
    REASONING_FORMAT,
    EventParser,
    parse_response,
    request_body,
)
from tollgate_router.providers.sse import SseDecoder

SIGNED = ReasoningDetail(
    type="reasoning.text", text="Paris is in France", signature="rs_1:gAAAAopaque",
    format=REASONING_FORMAT,
)  # fmt: skip


def call(*messages: Message, stream: bool = False, **params: Any) -> UpstreamCall:
    return UpstreamCall(
        base_url="https://api.openai.com/v1",
        api_key="sk",
        provider_model_id="gpt-5",
        messages=messages,
        params=GenerationParams(**params),
        stream=stream,
        max_output_tokens=128000,
    )


def test_a_conversation_becomes_input_items_and_reasoning_goes_back_as_made() -> None:
    body = request_body(
        call(
            Message("system", "Be brief."),
            Message("user", (TextPart("hi"),)),
            Message(
                "assistant",
                None,
                tool_calls=(ToolCall("call_1", "get_weather", '{"city":"Paris"}'),),
                reasoning_details=(
                    SIGNED,
                    ReasoningDetail("reasoning.text", "x", "sig", format="anthropic-claude-v1"),
                ),
            ),
            Message("tool", "sunny", tool_call_id="call_1"),
        )
    )

    assert body["store"] is False and body["stream"] is False
    assert body["input"] == [
        {"type": "message", "role": "system", "content": "Be brief."},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Paris is in France"}],
            "encrypted_content": "gAAAAopaque",
        },  # Claude's thinking is not sent to OpenAI
        {"type": "function_call", "call_id": "call_1", "name": "get_weather",
         "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]  # fmt: skip


def test_parameters_take_the_responses_shapes() -> None:
    tools = ToolOptions(
        (FunctionTool("f", "does f", {"type": "object"}, strict=True),), ToolChoice("auto", "f"),
        parallel=False,
    )  # fmt: skip
    body = request_body(
        call(
            Message("user", "hi"),
            max_tokens=50,
            temperature=0.3,
            user="u1",
            tools=tools,
            response_format=ResponseFormat("json_schema", "out", schema={"type": "object"}),
            reasoning=Reasoning(effort="high"),
            output_cap=40,
        )
    )

    assert body["max_output_tokens"] == 40  # what billing held wins
    assert (body["temperature"], body["safety_identifier"]) == (0.3, "u1")
    assert body["tools"] == [
        {"type": "function", "name": "f", "description": "does f",
         "parameters": {"type": "object"}, "strict": True}
    ]  # fmt: skip
    assert body["tool_choice"] == {"type": "function", "name": "f"}
    assert body["parallel_tool_calls"] is False
    assert body["text"] == {
        "format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}}
    }
    assert body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert body["include"] == ["reasoning.encrypted_content"]


@pytest.mark.parametrize("param", ["seed", "frequency_penalty", "stop"])
def test_what_the_responses_api_has_not_is_a_400_naming_it(param: str) -> None:
    value: Any = ("END",) if param == "stop" else 1
    with pytest.raises(ProviderError) as raised:
        request_body(call(Message("user", "hi"), **{param: value}))
    assert (raised.value.status, raised.value.param) == (400, param)


def test_a_limit_below_openais_minimum_is_raised_to_it() -> None:
    assert request_body(call(Message("user", "hi"), max_tokens=1))["max_output_tokens"] == 16


def test_the_planned_output_is_max_output_tokens_else_the_models() -> None:
    limited = call(Message("user", "hi"), max_completion_tokens=300)
    assert planned_output("openai", "openai-responses", limited).tokens == 300
    assert (
        planned_output("openai", "openai-responses", call(Message("user", "hi"))).tokens == 128000
    )


RESPONSE: dict[str, Any] = {
    "id": "resp_1", "object": "response", "created_at": 1700000000, "status": "completed",
    "model": "gpt-5-2025", "error": None, "incomplete_details": None,
    "output": [
        {"id": "rs_9", "type": "reasoning", "summary": [{"type": "summary_text", "text": "Think"}],
         "encrypted_content": "gAAAAenc"},
        {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "Hi", "annotations": []}]},
        {"id": "fc_1", "type": "function_call", "call_id": "call_7", "name": "f",
         "arguments": "{}", "status": "completed"},
    ],
    "usage": {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 4},
              "output_tokens": 9, "output_tokens_details": {"reasoning_tokens": 6},
              "total_tokens": 19},
}  # fmt: skip
EXPECTED: list[ProviderEvent] = [
    ResponseStart("resp_1", "gpt-5-2025", 1700000000, ""),
    ReasoningDelta("Think", format=REASONING_FORMAT),
    ReasoningDelta(signature="rs_9:gAAAAenc", format=REASONING_FORMAT),
    TextDelta("Hi"),
    ToolCallDelta(0, "call_7", "f", "{}"),
    FinishReason("tool_calls"),
    UsageReport(10, 9, 19, cached_tokens=4, reasoning_tokens=6),
]


def test_a_response_object_gives_the_events_a_stream_would() -> None:
    assert parse_response(orjson.dumps(RESPONSE)) == EXPECTED


def _sse(*events: dict[str, Any]) -> bytes:
    return b"".join(
        b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n" for e in events
    )


def test_semantic_events_give_the_same_events() -> None:
    reasoning, message, function = RESPONSE["output"]
    raw = _sse(
        {"type": "response.created", "response": {**RESPONSE, "status": "in_progress", "output": []}},
        {"type": "response.in_progress", "response": {**RESPONSE, "status": "in_progress"}},
        {"type": "response.output_item.added", "output_index": 0,
         "item": {**reasoning, "summary": [], "encrypted_content": None}},
        {"type": "response.reasoning_summary_part.added", "item_id": "rs_9", "output_index": 0,
         "summary_index": 0, "part": {"type": "summary_text", "text": ""}},
        {"type": "response.reasoning_summary_text.delta", "item_id": "rs_9", "output_index": 0,
         "summary_index": 0, "delta": "Think"},
        {"type": "response.output_item.done", "output_index": 0, "item": reasoning},
        {"type": "response.output_item.added", "output_index": 1, "item": {**message, "content": []}},
        {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 1,
         "content_index": 0, "delta": "Hi"},
        {"type": "response.output_item.done", "output_index": 1, "item": message},
        {"type": "response.output_item.added", "output_index": 2, "item": {**function, "arguments": ""}},
        {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 2,
         "delta": "{}"},
        {"type": "response.output_item.done", "output_index": 2, "item": function},
        {"type": "response.completed", "response": RESPONSE},
    )  # fmt: skip
    parser = EventParser()
    events = [e for sse in SseDecoder().feed(raw) for e in parser.feed(sse)]

    assert parser.done and parser.finished
    assert events == [*EXPECTED[:4], ToolCallDelta(0, "call_7", "f", ""),
                      ToolCallDelta(0, arguments="{}"), *EXPECTED[5:]]  # fmt: skip


def test_incomplete_and_failed_responses() -> None:
    incomplete = {**RESPONSE, "status": "incomplete", "output": [],
                  "incomplete_details": {"reason": "max_output_tokens"}}  # fmt: skip
    assert FinishReason("length") in parse_response(orjson.dumps(incomplete))
    failed = {"type": "response.failed",
              "response": {**RESPONSE, "status": "failed",
                           "error": {"code": "server_error", "message": "boom"}}}  # fmt: skip
    with pytest.raises(ProviderError) as raised:
        _feed(_sse(failed))
    assert (raised.value.code, raised.value.message) == ("server_error", "boom")
    with pytest.raises(ProviderError) as error_event:
        _feed(_sse({"type": "error", "code": "rate_limit", "message": "slow"}))
    assert error_event.value.code == "rate_limit"


def _feed(raw: bytes) -> list[ProviderEvent]:
    parser = EventParser()
    return [e for sse in SseDecoder().feed(raw) for e in parser.feed(sse)]
