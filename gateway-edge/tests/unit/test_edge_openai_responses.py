"""The Responses API's translation (no network): a request and its input items into the
router's RPC, and the router's events into output items and OpenAI's numbered SSE events."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from tollgate.router.v1 import router_pb2
from tollgate_edge.errors import ApiError
from tollgate_edge.openai_responses.body import EventWriter, response_id
from tollgate_edge.openai_responses.output import Output
from tollgate_edge.openai_responses.request import parse_responses_request

CALLER = router_pb2.CallerContext(team_id="team_1", surface="responses")


def parse(**body: Any) -> router_pb2.StreamGenerateRequest:
    body.setdefault("model", "openai/gpt-4o-mini")
    body.setdefault("input", "hi")
    parsed, _ = parse_responses_request(orjson.dumps(body), CALLER)
    return parsed.rpc


def test_a_turn_of_items_becomes_one_assistant_message_and_its_tool_results() -> None:
    rpc = parse(
        instructions="Be brief.",
        input=[
            {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
            # Gemini signs its call after making it: the same turn all the same.
            {"type": "function_call", "call_id": "call_1", "name": "w", "arguments": "{}"},
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [],
                "encrypted_content": "google-gemini-v1#sig",
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Sunny.", "annotations": []}],
            },
            {"role": "user", "content": "Thanks"},
        ],
    )

    assert [m.role for m in rpc.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    call = rpc.messages[2]
    assert [(c.id, c.name) for c in call.tool_calls] == [("call_1", "w")]
    [detail] = call.reasoning_details
    assert (detail.type, detail.signature, detail.format) == (
        "reasoning.text",
        "sig",
        "google-gemini-v1",
    )
    assert (rpc.messages[3].tool_call_id, rpc.messages[3].text) == ("call_1", "sunny")
    assert rpc.messages[4].text == "Sunny."


def test_options_reach_the_rpc_in_the_chat_cores_terms() -> None:
    rpc = parse(
        tools=[{"type": "function", "name": "w", "parameters": {"type": "object"}}],
        tool_choice={"type": "function", "name": "w"},
        reasoning={"effort": "high", "summary": "auto"},
        text={"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}},
        max_output_tokens=64,
        temperature=0.3,
        providerOptions={"gateway": {"order": ["openai"]}},
    )

    assert [t.name for t in rpc.tools] == ["w"] and rpc.tool_choice.function_name == "w"
    assert rpc.reasoning.effort == "high"
    assert (rpc.response_format.type, rpc.response_format.name) == ("json_schema", "x")
    assert (rpc.params.max_tokens, rpc.params.temperature) == (64, 0.3)
    assert list(rpc.routing.order) == ["openai"]
    assert rpc.caller.surface == "responses"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": None}, "input"),
        ({"store": "yes"}, "store"),
        ({"metadata": {"k": 1}}, "metadata"),
        ({"reasoning": {"summary": "long"}}, "reasoning.summary"),
        ({"input": [{"type": "function_call", "call_id": "c", "name": "w"}]}, "input[0].arguments"),
        ({"input": [{"role": "tool", "content": "x"}]}, "input[0].role"),
    ],
)
def test_bad_input_names_its_param(body: dict[str, Any], param: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse(**body)
    assert (refused.value.status, refused.value.param) == (400, param)


def test_events_become_items_and_numbered_events_in_openais_order() -> None:
    output = Output("01ABC")
    writer = EventWriter()
    out = output.reasoning(router_pb2.ReasoningDelta(text="Think", format="google-gemini-v1"))
    out += output.reasoning(router_pb2.ReasoningDelta(signature="s", format="google-gemini-v1"))
    out += output.text("Hel") + output.text("lo")
    out += output.tool_call(router_pb2.ToolCallDelta(index=0, id="call_1", name="w"))
    out += output.tool_call(router_pb2.ToolCallDelta(index=0, arguments='{"a":1}'))
    out += output.close()
    raw = writer.frames(out).decode().strip().split("\n\n")
    events = []
    for frame in raw:
        event, data = frame.split("\n")
        payload = json.loads(data.removeprefix("data: "))
        assert payload["type"] == event.removeprefix("event: ")
        events.append(payload)

    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events] == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ]
    reasoning, message, call = output.items
    assert reasoning["summary"] == [{"type": "summary_text", "text": "Think"}]
    assert reasoning["encrypted_content"] == "google-gemini-v1#s"
    assert message["content"][0]["text"] == "Hello" and message["status"] == "completed"
    assert (call["call_id"], call["arguments"], call["status"]) == (
        "call_1",
        '{"a":1}',
        "completed",
    )
    assert response_id("gen_01ABC") == "resp_01ABC"
