"""The Anthropic Messages wire format: request translation and recorded-shape responses (JSON
and SSE) against golden fixtures, usage normalisation, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tollgate_router.domain import (
    FilePart,
    GenerationParams,
    ImagePart,
    Message,
    TextPart,
    ToolCall,
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
from tollgate_router.providers import ProviderError, UpstreamCall
from tollgate_router.providers.anthropic_wire import (
    MessageStreamParser,
    error_from_response,
    parse_message,
    request_body,
    request_headers,
)
from tollgate_router.providers.sse import SseDecoder

FIXTURES = Path(__file__).parent / "fixtures"
USAGE_CASES = json.loads((FIXTURES / "anthropic_usage_cases.json").read_text())

MESSAGES = (
    Message("system", "Be brief."),
    Message("developer", (TextPart("Answer in French."),)),
    Message(
        "user",
        (
            TextPart("What is in these?"),
            ImagePart("data:image/png;base64,iVBORw0KGgo="),
            ImagePart("https://example.com/cat.jpg", "low"),
            FilePart("JVBERi0xLjQ=", "application/pdf", "report.pdf"),
        ),
    ),
    Message("user", "And the weather in Paris?"),
    Message(
        "assistant",
        "Let me check.",
        tool_calls=(ToolCall("toolu_1", "get_weather", '{"location": "Paris"}'),),
    ),
    Message("tool", '{"temp_c": 18}', tool_call_id="toolu_1"),
    Message("user", "Thanks!"),
)
PARAMS = GenerationParams(
    temperature=0.3, top_p=0.9, stop=("END",), user="u-42", seed=7, frequency_penalty=0.5
)


def call(
    messages: tuple[Message, ...] = MESSAGES,
    params: GenerationParams = PARAMS,
    *,
    stream: bool = False,
    max_output_tokens: int = 64000,
    headers: dict[str, str] | None = None,
) -> UpstreamCall:
    return UpstreamCall(
        base_url="https://api.anthropic.com/v1",
        api_key="sk-ant-secret",
        provider_model_id="claude-sonnet-4-20250514",
        messages=messages,
        params=params,
        stream=stream,
        max_output_tokens=max_output_tokens,
        provider_headers=headers or {},
    )


def parse_stream(raw: bytes, piece: int) -> list[ProviderEvent]:
    decoder, parser = SseDecoder(), MessageStreamParser()
    events: list[ProviderEvent] = []
    for start in range(0, len(raw), piece):
        for sse in decoder.feed(raw[start : start + piece]):
            events.extend(parser.feed(sse))
    for sse in decoder.close():
        events.extend(parser.feed(sse))
    assert parser.done and parser.finished
    return events


def summary(events: list[ProviderEvent]) -> dict[str, Any]:
    """What a client would assemble from the events, however they were split."""
    tools: dict[int, dict[str, str]] = {}
    for e in events:
        if isinstance(e, ToolCallDelta):
            tool = tools.setdefault(e.index, {"id": "", "name": "", "arguments": ""})
            tool["id"] += e.id
            tool["name"] += e.name
            tool["arguments"] += e.arguments
    return {
        "start": [e for e in events if isinstance(e, ResponseStart)],
        "text": "".join(e.text for e in events if isinstance(e, TextDelta)),
        "reasoning": "".join(e.text for e in events if isinstance(e, ReasoningDelta)),
        "signatures": [
            e.signature for e in events if isinstance(e, ReasoningDelta) and e.signature
        ],
        "tools": [
            {**tools[i], "arguments": json.loads(tools[i]["arguments"])} for i in sorted(tools)
        ],
        "finish": [e.reason for e in events if isinstance(e, FinishReason)],
        "usage": [e for e in events if isinstance(e, UsageReport)][-1:],
    }


# -- request ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_request_translation_matches_the_golden_body(stream: bool) -> None:
    expected = json.loads((FIXTURES / "anthropic_request.json").read_text())
    if stream:
        expected["stream"] = True

    assert request_body(call(stream=stream)) == expected


@pytest.mark.parametrize(
    ("params", "catalog_max", "expected"),
    [
        (GenerationParams(max_completion_tokens=100, max_tokens=200), 64000, 100),
        (GenerationParams(max_tokens=200), 64000, 200),
        (GenerationParams(), 64000, 64000),
        (GenerationParams(), 0, 4096),
    ],
)
def test_max_tokens_is_always_sent(
    params: GenerationParams, catalog_max: int, expected: int
) -> None:
    body = request_body(call((Message("user", "hi"),), params, max_output_tokens=catalog_max))

    assert body["max_tokens"] == expected


def test_headers_carry_the_key_the_version_and_only_anthropic_beta() -> None:
    headers = request_headers(
        call(stream=True, headers={"anthropic-beta": "context-1m-2025-08-07", "x-other": "no"})
    )

    assert headers == {
        "x-api-key": "sk-ant-secret",
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
        "accept": "text/event-stream",
        "anthropic-beta": "context-1m-2025-08-07",
    }
    assert "anthropic-beta" not in request_headers(call())


def test_a_text_file_becomes_a_plain_text_document() -> None:
    body = request_body(
        call((Message("user", (FilePart("data:text/plain;base64,aGVsbG8=", "", "a.txt"),)),))
    )

    assert body["messages"][0]["content"] == [
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "hello"},
            "title": "a.txt",
        }
    ]


@pytest.mark.parametrize(
    "message",
    [
        Message("user", (FilePart("UklGRg==", "audio/wav"),)),
        Message("user", (ImagePart("ftp://example.com/a.png"),)),
        Message("assistant", None, tool_calls=(ToolCall("t", "f", "[1, 2]"),)),
    ],
)
def test_what_anthropic_cannot_take_is_the_callers_400(message: Message) -> None:
    with pytest.raises(ProviderError) as raised:
        request_body(call((Message("user", "hi"), message)))

    assert raised.value.status == 400
    assert raised.value.type == "invalid_request_error"


# -- responses --------------------------------------------------------------------------------

GOLDEN = {
    "start": [ResponseStart("msg_01Aq9w938a90dw8q", "claude-sonnet-4-20250514", 0, "")],
    "text": "Let me check the weather in Paris.",
    "reasoning": "The user wants the weather, so I should call the tool.",
    "signatures": ["EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"],
    "tools": [
        {
            "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
            "name": "get_weather",
            "arguments": {"location": "Paris, France"},
        }
    ],
    "finish": ["tool_calls"],
    "usage": [UsageReport(3544, 89, 3633, cached_tokens=2048, cache_write_tokens=1024)],
}


@pytest.mark.parametrize("piece", [1, 9, 128, 100_000])
def test_recorded_stream_parses_to_the_golden_events(piece: int) -> None:
    events = parse_stream((FIXTURES / "anthropic_stream.sse").read_bytes(), piece)

    assert summary(events) == GOLDEN
    assert isinstance(events[0], ResponseStart)
    # The tool call opens with its id and name, then only argument fragments follow.
    calls = [e for e in events if isinstance(e, ToolCallDelta)]
    assert calls[0] == ToolCallDelta(0, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", "")
    assert all(c.index == 0 and not c.id and not c.name for c in calls[1:])


def test_recorded_json_message_gives_the_same_events() -> None:
    events = parse_message((FIXTURES / "anthropic_message.json").read_bytes())

    assert summary(events) == GOLDEN
    assert isinstance(events[0], ResponseStart)
    assert isinstance(events[-1], UsageReport)


def _stream_with_usage(usage: dict[str, Any]) -> bytes:
    start_usage = {**usage, "output_tokens": 1}
    message = {"id": "msg_1", "model": "claude", "content": [], "usage": start_usage}
    frames: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"message": message}),
        ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "hi"}}),
        ("content_block_stop", {"index": 0}),
        (
            "message_delta",
            {
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        ),
        ("message_stop", {}),
    ]
    return b"".join(
        f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()
        for kind, data in frames
    )


@pytest.mark.parametrize("case", USAGE_CASES, ids=[c["name"] for c in USAGE_CASES])
def test_usage_normalisation_golden_non_streaming(case: dict[str, Any]) -> None:
    raw = json.dumps(
        {
            "id": "msg_1",
            "model": "claude",
            "content": [],
            "stop_reason": "end_turn",
            "usage": case["usage"],
        }
    ).encode()

    [report] = [e for e in parse_message(raw) if isinstance(e, UsageReport)]

    assert report == UsageReport(**case["normalised"])


@pytest.mark.parametrize("case", USAGE_CASES, ids=[c["name"] for c in USAGE_CASES])
def test_usage_normalisation_golden_streaming(case: dict[str, Any]) -> None:
    """``message_start`` carries the input counts, ``message_delta`` only the final output."""
    events = parse_stream(_stream_with_usage(case["usage"]), 17)

    assert [e for e in events if isinstance(e, UsageReport)][-1] == UsageReport(
        **case["normalised"]
    )


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("something_new", "stop"),
    ],
)
def test_stop_reasons_map_to_openai_finish_reasons(stop_reason: str, finish: str) -> None:
    raw = json.dumps({"id": "m", "model": "c", "content": [], "stop_reason": stop_reason}).encode()

    assert FinishReason(finish) in parse_message(raw)


def test_an_early_error_event_fails_before_anything_is_yielded() -> None:
    """``message_start`` is held back, so an overload right after it can still fail over."""
    parser = MessageStreamParser()
    decoder = SseDecoder()
    raw = (FIXTURES / "anthropic_error_overloaded.json").read_text()
    [start, ping, error] = decoder.feed(
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","model":"c",'
        b'"content":[],"usage":{"input_tokens":3,"output_tokens":1}}}\n\n'
        b'event: ping\ndata: {"type": "ping"}\n\n'
        b"event: error\ndata: " + raw.strip().encode() + b"\n\n"
    )

    assert parser.feed(start) == []
    assert parser.feed(ping) == []
    with pytest.raises(ProviderError) as raised:
        parser.feed(error)
    assert (raised.value.status, raised.value.code) == (0, "overloaded_error")
    assert raised.value.message == "Overloaded"


def test_recorded_error_body_maps_to_a_typed_error() -> None:
    error = error_from_response(529, (FIXTURES / "anthropic_error_overloaded.json").read_bytes())

    assert (error.status, error.type, error.code, error.message) == (
        529,
        "api_error",
        "overloaded_error",
        "Overloaded",
    )


@pytest.mark.parametrize(
    ("status", "raw", "kind", "message"),
    [
        (
            400,
            b'{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}',
            "invalid_request_error",
            "max_tokens: Field required",
        ),
        (502, b"<html>Bad gateway</html>", "api_error", "<html>Bad gateway</html>"),
        (503, b"", "api_error", "provider answered HTTP 503"),
    ],
)
def test_error_bodies_map(status: int, raw: bytes, kind: str, message: str) -> None:
    error = error_from_response(status, raw)

    assert (error.status, error.type, error.message) == (status, kind, message)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"type":"content_block_delta","index":"x","delta":{"type":"text_delta","text":"a"}}',
        b'{"type":"message_start"}',
        b"[1, 2]",
        b"{not json",
    ],
)
def test_malformed_events_are_provider_errors_not_crashes(payload: bytes) -> None:
    [sse] = SseDecoder().feed(b"data: " + payload + b"\n\n")

    with pytest.raises(ProviderError) as raised:
        MessageStreamParser().feed(sse)
    assert raised.value.status == 0


def test_the_call_repr_hides_the_key_and_the_prompt() -> None:
    text = repr(call())

    assert "sk-ant-secret" not in text and "Paris" not in text
