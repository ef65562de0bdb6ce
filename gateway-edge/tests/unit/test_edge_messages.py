"""The Messages API's translation (no network): an Anthropic request into the router's RPC, the
router's events into Anthropic's blocks and SSE events, and count_tokens' estimate."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from tollgate.router.v1 import router_pb2
from tollgate_edge.errors import ApiError
from tollgate_edge.messages.count import estimate_input_tokens
from tollgate_edge.messages.errors import envelope, sse_error
from tollgate_edge.messages.request import count_request, parse_messages_request
from tollgate_edge.messages.response import Blocks, message_body, message_end

CALLER = router_pb2.CallerContext(team_id="team_1")
CLAUDE = "anthropic-claude-v1"


def parse(**body: Any) -> router_pb2.StreamGenerateRequest:
    body.setdefault("model", "anthropic/claude-sonnet-4")
    body.setdefault("max_tokens", 100)
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    return parse_messages_request(orjson.dumps(body), CALLER).rpc


def frames(raw: list[bytes]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for frame in b"".join(raw).decode().strip().split("\n\n"):
        event, data = frame.split("\n")
        found.append((event.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return found


def test_a_tool_turn_becomes_tool_calls_and_tool_messages_with_signed_thinking() -> None:
    rpc = parse(
        system=[{"type": "text", "text": "Be brief."}],
        messages=[
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Look it up", "signature": "sig"},
                    {"type": "redacted_thinking", "data": "opaque"},
                    {"type": "tool_use", "id": "tu_1", "name": "weather", "input": {"c": "P"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "and tomorrow?"},
                    {"type": "tool_result", "tool_use_id": "tu_1", "content": "sunny"},
                ],
            },
        ],
    )

    assert [m.role for m in rpc.messages] == ["system", "user", "assistant", "tool", "user"]
    assert rpc.messages[0].text == "Be brief."
    assistant = rpc.messages[2]
    assert assistant.WhichOneof("content") is None  # only calls: no text
    [call] = assistant.tool_calls
    assert (call.id, call.name, json.loads(call.arguments)) == ("tu_1", "weather", {"c": "P"})
    thinking, redacted = assistant.reasoning_details
    assert (thinking.type, thinking.text, thinking.signature) == (
        "reasoning.text",
        "Look it up",
        "sig",
    )
    assert (redacted.type, redacted.data) == ("reasoning.encrypted", "opaque")
    assert (rpc.messages[3].tool_call_id, rpc.messages[3].text) == ("tu_1", "sunny")


def test_settings_reach_the_rpc() -> None:
    rpc = parse(
        temperature=0.5,
        top_k=40,
        stop_sequences=["END"],
        metadata={"user_id": "u-1"},
        thinking={"type": "enabled", "budget_tokens": 2048},
        tools=[{"name": "weather", "input_schema": {"type": "object"}}],
        tool_choice={"type": "tool", "name": "weather", "disable_parallel_tool_use": True},
    )

    assert (rpc.params.max_tokens, rpc.params.temperature, list(rpc.params.stop)) == (
        100,
        0.5,
        ["END"],
    )
    assert rpc.routing.user == "u-1"
    assert rpc.reasoning.max_tokens == 2048
    assert rpc.tool_choice.function_name == "weather" and rpc.parallel_tool_calls is False
    assert json.loads(rpc.provider_options["anthropic"]) == {"topK": 40}
    assert not parse(thinking={"type": "disabled"}).HasField("reasoning")


def test_what_claude_code_sends_reaches_the_rpc_and_claudes_options() -> None:
    rpc = parse(
        messages=[
            {"role": "user", "content": "hi"},
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": "again"},
        ],
        thinking={"type": "adaptive", "display": "summarized"},
        output_config={"effort": "max"},
        context_management={"edits": [{"type": "clear_thinking_20251015"}]},
        tools=[{"name": "t", "input_schema": {"type": "object"}, "defer_loading": True}],
    )

    assert [(m.role, m.text) for m in rpc.messages] == [
        ("user", ""),
        ("system", "Be brief."),
        ("user", ""),
    ]
    assert (rpc.reasoning.enabled, rpc.reasoning.effort) == (True, "xhigh")
    assert json.loads(rpc.provider_options["anthropic"]) == {
        "thinking": {"type": "adaptive", "display": "summarized"},
        "effort": "max",
        "contextManagement": {"edits": [{"type": "clear_thinking_20251015"}]},
        "toolFields": {"t": {"defer_loading": True}},
    }
    assert "google" not in rpc.provider_options
    effort_only = parse(output_config={"effort": "low"})
    assert effort_only.reasoning.effort == "low" and not effort_only.reasoning.HasField("enabled")
    assert json.loads(effort_only.provider_options["anthropic"]) == {
        "effort": "low",
        "thinking": None,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"max_tokens": None},
        {"container": "c"},
        {"tools": [{"type": "bash_20250124", "name": "bash"}]},
        {"thinking": {"type": "enabled", "budget_tokens": 10}},
        {"tool_choice": {"type": "tool", "name": "missing"}},
        {"messages": [{"role": "tool", "content": "x"}]},
        {"messages": [{"role": "user", "content": [{"type": "tool_use", "id": "x"}]}]},
        {"output_config": {"format": {"type": "json_schema"}}},
        {"output_config": {"effort": "extreme"}},
        {"thinking": {"type": "sometimes"}},
        {"tools": [{"name": "t", "input_schema": {}, "defer_loading": "yes"}]},
    ],
)
def test_what_cannot_be_honoured_is_a_400(body: dict[str, Any]) -> None:
    with pytest.raises(ApiError) as refused:
        parse(**body)
    assert refused.value.status == 400
    assert envelope(refused.value)["error"]["type"] == "invalid_request_error"


def test_blocks_stream_as_anthropic_frames_them_and_collect_into_a_message() -> None:
    blocks = Blocks()
    out = [
        *blocks.reasoning(router_pb2.ReasoningDelta(text="Think")),
        *blocks.reasoning(router_pb2.ReasoningDelta(signature="sig")),
        *blocks.text("Hi"),
        *blocks.text(" there"),
        *blocks.tool_call(router_pb2.ToolCallDelta(index=0, id="t1", name="weather")),
        *blocks.tool_call(router_pb2.ToolCallDelta(index=0, arguments='{"c":')),
        *blocks.tool_call(router_pb2.ToolCallDelta(index=0, arguments='"P"}')),
        *blocks.tool_call(router_pb2.ToolCallDelta(index=1, id="t2", name="time")),
        *blocks.close(),
    ]

    events = frames(out)
    assert [(name, data.get("index")) for name, data in events] == [
        ("content_block_start", 0),
        ("content_block_delta", 0),
        ("content_block_delta", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
        ("content_block_delta", 1),
        ("content_block_delta", 1),
        ("content_block_stop", 1),
        ("content_block_start", 2),
        ("content_block_delta", 2),
        ("content_block_delta", 2),
        ("content_block_stop", 2),
        ("content_block_start", 3),
        ("content_block_stop", 3),
    ]
    assert [d["delta"]["type"] for n, d in events if n == "content_block_delta"] == [
        "thinking_delta",
        "signature_delta",
        "text_delta",
        "text_delta",
        "input_json_delta",
        "input_json_delta",
    ]
    finished = router_pb2.GenerationFinished(finish_reason="tool_calls")
    usage = router_pb2.Usage(input_tokens=30, output_tokens=7, cached_input_tokens=20)
    message = json.loads(message_body("gen_1", "m", blocks, finished, usage))
    assert message["content"] == [
        {"type": "thinking", "thinking": "Think", "signature": "sig"},
        {"type": "text", "text": "Hi there"},
        {"type": "tool_use", "id": "t1", "name": "weather", "input": {"c": "P"}},
        {"type": "tool_use", "id": "t2", "name": "time", "input": {}},
    ]
    assert message["stop_reason"] == "tool_use"
    assert message["usage"] == {
        "input_tokens": 10,
        "output_tokens": 7,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 20,
    }


@pytest.mark.parametrize(
    ("finish", "stop_reason"),
    [("stop", "end_turn"), ("length", "max_tokens"), ("content_filter", "refusal")],
)
def test_stop_reasons(finish: str, stop_reason: str) -> None:
    (delta, data), (stop, _) = frames([message_end(finish, None)])
    assert (delta, data["delta"]["stop_reason"], stop) == (
        "message_delta",
        stop_reason,
        "message_stop",
    )


def test_a_failure_mid_stream_is_an_error_event() -> None:
    [(name, data)] = frames([sse_error(ApiError(529, "api_error", "busy"))])
    assert name == "error"
    assert data == {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}


def test_count_tokens_grows_with_the_prompt_and_needs_no_max_tokens() -> None:
    short = count_request(
        orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    )
    longer = count_request(
        orjson.dumps(
            {
                "model": "m",
                "system": "Be brief and precise.",
                "messages": [{"role": "user", "content": "hi"}],
                "tools": [{"name": "weather", "input_schema": {"type": "object"}}],
            }
        )
    )
    assert 0 < estimate_input_tokens(short) < estimate_input_tokens(longer)


def test_another_models_signature_comes_back_to_it_and_claudes_stays_as_is() -> None:
    blocks = Blocks()
    blocks.reasoning(router_pb2.ReasoningDelta(signature="g-sig", format="google-gemini-v1"))
    blocks.reasoning(router_pb2.ReasoningDelta(text="t", signature="c+sig/=", format=CLAUDE))
    gemini, claude = blocks.blocks
    assert gemini["signature"] == "google-gemini-v1#g-sig" and claude["signature"] == "c+sig/="

    rpc = parse(
        messages=[
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [gemini, claude]},
            {"role": "user", "content": "more"},
        ]
    )

    back = rpc.messages[1].reasoning_details
    assert [(d.format, d.signature) for d in back] == [
        ("google-gemini-v1", "g-sig"),
        (CLAUDE, "c+sig/="),
    ]
