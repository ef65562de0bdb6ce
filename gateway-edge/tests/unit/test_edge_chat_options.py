"""Tools, tool_choice, response_format and reasoning in a chat request: validation (400 with
the param) and what reaches the router."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from tollgate.router.v1 import router_pb2
from tollgate_edge.chat_request import parse_chat_request
from tollgate_edge.errors import ApiError

CALLER = router_pb2.CallerContext(team_id="team_1", request_id="req")
USER = [{"role": "user", "content": "weather in Paris?"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        "strict": True,
    },
}
TIME = {"type": "function", "function": {"name": "get_time"}}


def parse(**body: Any) -> Any:
    return parse_chat_request(json.dumps({"model": "m", "messages": USER, **body}).encode(), CALLER)


def param_of(**body: Any) -> str | None:
    with pytest.raises(ApiError) as failure:
        parse(**body)
    assert failure.value.status == 400
    assert failure.value.type == "invalid_request_error"
    return failure.value.param


def test_tools_reach_the_router() -> None:
    rpc = parse(tools=[WEATHER, TIME], tool_choice="required", parallel_tool_calls=False).rpc
    weather, time_tool = rpc.tools
    assert (weather.name, weather.description, weather.strict) == (
        "get_weather",
        "Current weather",
        True,
    )
    assert orjson.loads(weather.parameters_json) == WEATHER["function"]["parameters"]  # type: ignore[index]
    assert time_tool.name == "get_time" and time_tool.parameters_json == ""
    assert not time_tool.HasField("strict")
    assert rpc.tool_choice.mode == "required"
    assert rpc.HasField("parallel_tool_calls") and rpc.parallel_tool_calls is False


def test_a_named_tool_choice() -> None:
    choice = {"type": "function", "function": {"name": "get_time"}}
    assert parse(tools=[WEATHER, TIME], tool_choice=choice).rpc.tool_choice.function_name == (
        "get_time"
    )


def test_no_tools_no_choice() -> None:
    rpc = parse().rpc
    assert list(rpc.tools) == [] and not rpc.HasField("tool_choice")
    assert not rpc.HasField("parallel_tool_calls")
    assert parse(tools=[], tool_choice="none").rpc.tool_choice.mode == "none"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"tools": [{"type": "retrieval"}]}, "tools[0].type"),
        ({"tools": [{"type": "function"}]}, "tools[0].function"),
        ({"tools": [{"type": "function", "function": {"name": "a b"}}]}, "tools[0].function.name"),
        (
            {"tools": [{"type": "function", "function": {"name": "x" * 65}}]},
            "tools[0].function.name",
        ),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": "{}"}}]},
            "tools[0].function.parameters",
        ),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "strict": "yes"}}]},
            "tools[0].function.strict",
        ),
        ({"tools": [WEATHER, WEATHER]}, "tools"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": "always"}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": {"type": "tool"}}, "tool_choice.type"),
        (
            {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
            "tool_choice.function.name",
        ),
        ({"tools": [WEATHER], "parallel_tool_calls": 1}, "parallel_tool_calls"),
    ],
)
def test_malformed_tools_are_400_with_their_param(body: dict[str, Any], param: str) -> None:
    assert param_of(**body) == param


def test_assistant_tool_calls_and_tool_results_reach_the_router() -> None:
    messages = [
        *USER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    rpc = parse_chat_request(
        json.dumps({"model": "m", "messages": messages, "tools": [WEATHER]}).encode(), CALLER
    ).rpc
    assistant, tool = rpc.messages[1], rpc.messages[2]
    assert assistant.WhichOneof("content") is None
    assert (assistant.tool_calls[0].id, assistant.tool_calls[0].name) == ("call_1", "get_weather")
    assert assistant.tool_calls[0].arguments == '{"city":"Paris"}'
    assert (tool.role, tool.tool_call_id, tool.text) == ("tool", "call_1", "sunny")


# -- response_format --------------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def test_json_schema_format() -> None:
    fmt = parse(
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True},
        }
    ).rpc.response_format
    assert (fmt.type, fmt.name, fmt.strict) == ("json_schema", "answer", True)
    assert orjson.loads(fmt.schema_json) == SCHEMA


def test_legacy_json_format() -> None:
    fmt = parse(
        response_format={"type": "json", "schema": SCHEMA, "name": "answer", "description": "d"}
    ).rpc.response_format
    assert (fmt.type, fmt.name, fmt.description) == ("json_schema", "answer", "d")
    assert orjson.loads(fmt.schema_json) == SCHEMA
    assert parse(response_format={"type": "json"}).rpc.response_format.type == "json_object"


def test_text_and_json_object_formats() -> None:
    assert parse(response_format={"type": "text"}).rpc.response_format.type == "text"
    assert parse(response_format={"type": "json_object"}).rpc.response_format.type == "json_object"
    assert not parse().rpc.HasField("response_format")


@pytest.mark.parametrize(
    ("fmt", "param"),
    [
        ({"type": "xml"}, "response_format.type"),
        ({"type": "json_schema"}, "response_format.json_schema"),
        (
            {"type": "json_schema", "json_schema": {"schema": SCHEMA}},
            "response_format.json_schema.name",
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "a", "schema": []}},
            "response_format.json_schema.schema",
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "a", "strict": "no"}},
            "response_format.json_schema.strict",
        ),
        ({"type": "json", "schema": "x"}, "response_format.schema"),
    ],
)
def test_malformed_formats_are_400_with_their_param(fmt: dict[str, Any], param: str) -> None:
    assert param_of(response_format=fmt) == param


# -- reasoning --------------------------------------------------------------------------------


def test_reasoning_options() -> None:
    chat = parse(reasoning={"effort": "high", "exclude": True})
    assert chat.rpc.reasoning.effort == "high" and chat.exclude_reasoning
    chat = parse(reasoning={"enabled": True, "max_tokens": 2000})
    assert chat.rpc.reasoning.enabled and chat.rpc.reasoning.max_tokens == 2000
    assert not chat.exclude_reasoning
    assert not parse().rpc.HasField("reasoning")


def test_openais_reasoning_effort_is_reasoning() -> None:
    assert parse(reasoning_effort="xhigh").rpc.reasoning.effort == "xhigh"
    assert parse(reasoning_effort="none").rpc.reasoning.effort == "none"
    assert param_of(reasoning_effort="max") == "reasoning_effort"
    assert param_of(reasoning_effort="low", reasoning={"effort": "low"}) == "reasoning_effort"


@pytest.mark.parametrize(
    ("reasoning", "param"),
    [
        ({"effort": "high", "max_tokens": 1000}, "reasoning"),
        ({"effort": "extreme"}, "reasoning.effort"),
        ({"max_tokens": 0}, "reasoning.max_tokens"),
        ({"max_tokens": "1000"}, "reasoning.max_tokens"),
        ({"enabled": "yes"}, "reasoning.enabled"),
        ({"exclude": 1}, "reasoning.exclude"),
    ],
)
def test_malformed_reasoning_is_400_with_its_param(reasoning: dict[str, Any], param: str) -> None:
    assert param_of(reasoning=reasoning) == param


def test_reasoning_details_sent_back_reach_the_router() -> None:
    details = [
        {
            "type": "reasoning.text",
            "text": "hmm",
            "signature": "sig",
            "format": "anthropic-claude-v1",
        },
        {"type": "reasoning.encrypted", "data": "opaque", "format": "anthropic-claude-v1"},
    ]
    messages = [*USER, {"role": "assistant", "content": "ok", "reasoning_details": details}]
    rpc = parse_chat_request(json.dumps({"model": "m", "messages": messages}).encode(), CALLER).rpc
    sent = rpc.messages[1].reasoning_details
    assert [(d.type, d.text, d.signature, d.data) for d in sent] == [
        ("reasoning.text", "hmm", "sig", ""),
        ("reasoning.encrypted", "", "", "opaque"),
    ]
