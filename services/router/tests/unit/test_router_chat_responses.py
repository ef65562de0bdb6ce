"""Tool calls and reasoning read back from each provider's wire format (recorded-shape JSON and
SSE fixtures), the structured answer of Anthropic's forced tool, and ``<think>`` extraction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from tollgate_router.events import (
    FinishReason,
    ProviderEvent,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
)
from tollgate_router.generation.think_tags import ThinkSplitter
from tollgate_router.providers.anthropic_wire import MessageStreamParser, parse_message
from tollgate_router.providers.openai_wire import ChunkParser, parse_completion
from tollgate_router.providers.sse import SseDecoder

FIXTURES = Path(__file__).parent / "fixtures"
PARALLEL = [
    {"id": "call_Pk1Weather", "name": "get_weather", "arguments": {"city": "Paris"}},
    {"id": "call_Rm2Weather", "name": "get_weather", "arguments": {"city": "Rome"}},
]


def feed(parser: Any, raw: bytes, piece: int) -> list[ProviderEvent]:
    decoder = SseDecoder()
    events: list[ProviderEvent] = []
    for start in range(0, len(raw), piece):
        for sse in decoder.feed(raw[start : start + piece]):
            events.extend(parser.feed(sse))
    for sse in decoder.close():
        events.extend(parser.feed(sse))
    return events


def calls(events: list[ProviderEvent]) -> list[dict[str, Any]]:
    """Tool calls put together by index, as a client does."""
    found: dict[int, dict[str, Any]] = {}
    for e in events:
        if isinstance(e, ToolCallDelta):
            call = found.setdefault(e.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += e.id
            call["name"] += e.name
            call["arguments"] += e.arguments
    return [{**found[i], "arguments": json.loads(found[i]["arguments"])} for i in sorted(found)]


@pytest.mark.parametrize("piece", [1, 7, 10_000])
def test_openai_streamed_parallel_tool_calls(piece: int) -> None:
    raw = (FIXTURES / "openai_tool_calls_stream.sse").read_bytes()
    events = feed(ChunkParser(), raw, piece)

    assert calls(events) == PARALLEL
    first = next(e for e in events if isinstance(e, ToolCallDelta))
    assert (first.index, first.id, first.name, first.arguments) == (
        0,
        "call_Pk1Weather",
        "get_weather",
        "",
    )
    assert [e.reason for e in events if isinstance(e, FinishReason)] == ["tool_calls"]
    assert not any(isinstance(e, TextDelta) for e in events)


def test_openai_tool_calls_in_a_json_completion() -> None:
    events = parse_completion((FIXTURES / "openai_tool_calls_completion.json").read_bytes())
    assert calls(events) == PARALLEL
    assert [e.reason for e in events if isinstance(e, FinishReason)] == ["tool_calls"]


def test_openai_compatible_reasoning_content_is_reasoning() -> None:
    raw = (FIXTURES / "openai_reasoning_content_stream.sse").read_bytes()
    events = feed(ChunkParser(), raw, 13)
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "Two plus two."
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "4"
    body = orjson.dumps(
        {
            "id": "x",
            "model": "deepseek-reasoner",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "4", "reasoning_content": "Sum."},
                    "finish_reason": "stop",
                }
            ],
        }
    )
    json_events = parse_completion(body)
    assert [e.text for e in json_events if isinstance(e, ReasoningDelta)] == ["Sum."]


# -- Anthropic: the forced answer tool --------------------------------------------------------

ANSWER_INPUT = {"answer": "Paris"}


def anthropic_message(blocks: list[dict[str, Any]], stop: str = "tool_use") -> bytes:
    return orjson.dumps(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-20250514",
            "content": blocks,
            "stop_reason": stop,
            "usage": {"input_tokens": 10, "output_tokens": 5},
        }
    )


def test_anthropic_structured_answer_becomes_the_text() -> None:
    raw = anthropic_message(
        [{"type": "tool_use", "id": "toolu_1", "name": "answer", "input": ANSWER_INPUT}]
    )
    events = parse_message(raw, answer_tool="answer")
    assert [json.loads(e.text) for e in events if isinstance(e, TextDelta)] == [ANSWER_INPUT]
    assert not any(isinstance(e, ToolCallDelta) for e in events)
    assert [e.reason for e in events if isinstance(e, FinishReason)] == ["stop"]
    # Without a structured answer asked for, the same call is a tool call.
    plain = parse_message(raw)
    assert calls(plain) == [{"id": "toolu_1", "name": "answer", "arguments": ANSWER_INPUT}]
    assert [e.reason for e in plain if isinstance(e, FinishReason)] == ["tool_calls"]


def _frame(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps({'type': event, **data})}\n\n".encode()


def anthropic_stream(tool_name: str) -> bytes:
    arguments = json.dumps(ANSWER_INPUT)
    return b"".join(
        [
            _frame(
                "message_start",
                {
                    "message": {
                        "id": "msg_1",
                        "type": "message",
                        "role": "assistant",
                        "model": "claude-sonnet-4-20250514",
                        "content": [],
                        "stop_reason": None,
                        "usage": {"input_tokens": 10, "output_tokens": 1},
                    }
                },
            ),
            _frame(
                "content_block_start",
                {
                    "index": 0,
                    "content_block": {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": tool_name,
                        "input": {},
                    },
                },
            ),
            _frame(
                "content_block_delta",
                {"index": 0, "delta": {"type": "input_json_delta", "partial_json": arguments[:7]}},
            ),
            _frame(
                "content_block_delta",
                {"index": 0, "delta": {"type": "input_json_delta", "partial_json": arguments[7:]}},
            ),
            _frame("content_block_stop", {"index": 0}),
            _frame(
                "message_delta",
                {"delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}},
            ),
            _frame("message_stop", {}),
        ]
    )


@pytest.mark.parametrize("piece", [5, 10_000])
def test_anthropic_streamed_structured_answer_is_streamed_text(piece: int) -> None:
    events = feed(MessageStreamParser("answer"), anthropic_stream("answer"), piece)
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(texts) == 2 and json.loads("".join(texts)) == ANSWER_INPUT
    assert [e.reason for e in events if isinstance(e, FinishReason)] == ["stop"]
    # A user tool of another name is still a tool call.
    other = feed(MessageStreamParser("answer"), anthropic_stream("get_weather"), piece)
    assert calls(other) == [{"id": "toolu_1", "name": "get_weather", "arguments": ANSWER_INPUT}]
    assert [e.reason for e in other if isinstance(e, FinishReason)] == ["tool_calls"]


def test_anthropic_thinking_carries_its_format() -> None:
    raw = anthropic_message(
        [
            {"type": "thinking", "thinking": "Hmm.", "signature": "sig"},
            {"type": "redacted_thinking", "data": "blob"},
            {"type": "text", "text": "Hi"},
        ],
        stop="end_turn",
    )
    reasoning = [e for e in parse_message(raw) if isinstance(e, ReasoningDelta)]
    assert [(e.text, e.signature, e.data) for e in reasoning] == [
        ("Hmm.", "", ""),
        ("", "sig", ""),
        ("", "", "blob"),
    ]
    assert {e.format for e in reasoning} == {"anthropic-claude-v1"}


# -- <think> ----------------------------------------------------------------------------------


def split(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    out = [p for piece in pieces for p in splitter.feed(piece)] + splitter.flush()
    return (
        "".join(t for kind, t in out if kind == "reasoning"),
        "".join(t for kind, t in out if kind == "text"),
    )


TEXT = "<think>\nFirst, 2+2.\n</think>\n\nThe answer is 4."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, len(TEXT)])
def test_think_tags_are_split_off_however_the_text_is_cut(size: int) -> None:
    pieces = [TEXT[i : i + size] for i in range(0, len(TEXT), size)]
    assert split(pieces) == ("\nFirst, 2+2.\n", "The answer is 4.")


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (["Use <think> tags ", "like this."], ("", "Use <think> tags like this.")),
        (["<thi", "nk", "ing is fun"], ("", "<thinking is fun")),
        (["<"], ("", "<")),
        (["<think>unfinished"], ("unfinished", "")),
        (["  <think>a</think>b"], ("a", "b")),
        (["a < b"], ("", "a < b")),
    ],
)
def test_only_a_leading_think_block_is_reasoning(
    pieces: list[str], expected: tuple[str, str]
) -> None:
    assert split(pieces) == expected


def test_openai_compatible_tool_calls_without_an_index_keep_their_order() -> None:
    chunk = {
        "id": "x",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {
                            "id": "a",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        },
                        {
                            "id": "b",
                            "type": "function",
                            "function": {"name": "g", "arguments": "{}"},
                        },
                    ]
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
    raw = b"data: " + orjson.dumps(chunk) + b"\n\ndata: [DONE]\n\n"
    events = feed(ChunkParser(), raw, 10_000)
    assert [(c["id"], c["name"]) for c in calls(events)] == [("a", "f"), ("b", "g")]
