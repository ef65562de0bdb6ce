"""The Google Gemini wire format: request translation and recorded-shape responses (JSON and
SSE) against golden fixtures, usage normalisation, errors."""

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
from tollgate_router.providers.gemini_wire import (
    ResponseParser,
    error_from_response,
    parse_response,
    request_body,
    request_headers,
    request_url,
)
from tollgate_router.providers.sse import SseDecoder

FIXTURES = Path(__file__).parent / "fixtures"
USAGE_CASES = json.loads((FIXTURES / "gemini_usage_cases.json").read_text())
RECORDED_STREAM = (FIXTURES / "gemini_stream.sse").read_bytes()

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
        tool_calls=(ToolCall("call_1", "get_weather", '{"location": "Paris"}'),),
    ),
    Message("tool", '{"temp_c": 18}', tool_call_id="call_1"),
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
) -> UpstreamCall:
    return UpstreamCall(
        base_url="https://generativelanguage.googleapis.com/v1beta",
        api_key="AIza-secret",
        provider_model_id="gemini-2.5-flash",
        messages=messages,
        params=params,
        stream=stream,
        max_output_tokens=65536,
        provider_headers={"anthropic-beta": "not-for-google"},
    )


def fixed_ids() -> str:
    return "call_generated"


def parse_stream(raw: bytes, piece: int) -> list[ProviderEvent]:
    decoder, parser = SseDecoder(), ResponseParser(fixed_ids)
    events: list[ProviderEvent] = []
    for start in range(0, len(raw), piece):
        for sse in decoder.feed(raw[start : start + piece]):
            events.extend(parser.feed(sse))
    for sse in decoder.close():
        events.extend(parser.feed(sse))
    assert parser.finished and not parser.done
    return events


def summary(events: list[ProviderEvent]) -> dict[str, Any]:
    tools: dict[int, dict[str, Any]] = {}
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
            {
                **tools[i],
                "id": tools[i]["id"].startswith("call_"),
                "arguments": json.loads(tools[i]["arguments"]),
            }
            for i in sorted(tools)
        ],
        "finish": [e.reason for e in events if isinstance(e, FinishReason)],
        "usage": [e for e in events if isinstance(e, UsageReport)][-1:],
    }


# -- request ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_request_translation_matches_the_golden_body(stream: bool) -> None:
    expected = json.loads((FIXTURES / "gemini_request.json").read_text())

    assert request_body(call(stream=stream)) == expected


def test_urls_and_headers() -> None:
    assert request_url(call()) == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    )
    assert request_url(call(stream=True)) == (
        "https://generativelanguage.googleapis.com/v1beta/models/"
        "gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    headers = request_headers(call(stream=True))
    assert headers == {
        "x-goog-api-key": "AIza-secret",
        "content-type": "application/json",
        "accept": "text/event-stream",
    }
    assert "AIza-secret" not in request_url(call())


def test_limits_go_to_max_output_tokens() -> None:
    body = request_body(
        call((Message("user", "hi"),), GenerationParams(max_tokens=50, max_completion_tokens=20))
    )

    assert body == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"maxOutputTokens": 20},
    }


@pytest.mark.parametrize(
    "message",
    [
        Message("tool", "42", tool_call_id="call_unknown"),
        Message("user", (FilePart("UklGRg=="),)),
        Message("user", (ImagePart("file:///etc/passwd"),)),
    ],
)
def test_what_gemini_cannot_take_is_the_callers_400(message: Message) -> None:
    with pytest.raises(ProviderError) as raised:
        request_body(call((Message("user", "hi"), message)))

    assert raised.value.status == 400


# -- responses --------------------------------------------------------------------------------

GOLDEN = {
    "start": [ResponseStart("WEXbaMnpF7iPjMcP27mckQE", "gemini-2.5-flash", 0, "")],
    "text": "Let me check the weather in Paris.",
    "reasoning": "**Checking the weather**\n\nThe user asks about Paris; I should call the tool.",
    "signatures": ["CiQB0e2Kb7QXYkq1Q8mXzQ=="],
    "tools": [{"id": True, "name": "get_weather", "arguments": {"location": "Paris, France"}}],
    "finish": ["tool_calls"],
    "usage": [UsageReport(2090, 95, 2185, cached_tokens=2048, reasoning_tokens=70)],
}


@pytest.mark.parametrize("piece", [1, 11, 256, 100_000])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_recorded_stream_parses_to_the_golden_events(piece: int, newline: bytes) -> None:
    events = parse_stream(RECORDED_STREAM.replace(b"\n", newline), piece)

    assert summary(events) == GOLDEN
    assert isinstance(events[0], ResponseStart)
    assert next(e for e in events if isinstance(e, ToolCallDelta)).id == "call_generated"


def test_recorded_json_response_gives_the_same_events() -> None:
    events = parse_response((FIXTURES / "gemini_response.json").read_bytes())

    assert summary(events) == GOLDEN
    [tool] = [e for e in events if isinstance(e, ToolCallDelta)]
    assert tool.id.startswith("call_") and len(tool.id) > 12


def test_a_call_id_sent_by_gemini_is_kept() -> None:
    raw = json.dumps(
        {
            "candidates": [
                {
                    "content": {
                        "parts": [{"functionCall": {"id": "fc_7", "name": "f", "args": {}}}]
                    },
                    "finishReason": "STOP",
                }
            ]
        }
    ).encode()

    assert ToolCallDelta(0, "fc_7", "f", "{}") in parse_response(raw)


@pytest.mark.parametrize("case", USAGE_CASES, ids=[c["name"] for c in USAGE_CASES])
def test_usage_normalisation_golden_non_streaming(case: dict[str, Any]) -> None:
    body = {
        "candidates": [
            {"content": {"parts": [{"text": "x"}], "role": "model"}, "finishReason": "STOP"}
        ],
        "usageMetadata": case["usage"],
    }

    [report] = [e for e in parse_response(json.dumps(body).encode()) if isinstance(e, UsageReport)]

    assert report == UsageReport(**case["normalised"])


@pytest.mark.parametrize("case", USAGE_CASES, ids=[c["name"] for c in USAGE_CASES])
def test_usage_normalisation_golden_streaming(case: dict[str, Any]) -> None:
    """Every chunk carries the usage so far; the one with ``finishReason`` is final."""
    partial = {k: v for k, v in case["usage"].items() if k != "candidatesTokenCount"}
    chunks = [
        {
            "candidates": [{"content": {"parts": [{"text": "a"}], "role": "model"}}],
            "usageMetadata": partial,
        },
        {
            "candidates": [
                {"content": {"parts": [{"text": "b"}], "role": "model"}, "finishReason": "STOP"}
            ],
            "usageMetadata": case["usage"],
        },
    ]
    raw = b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)

    reports = [e for e in parse_stream(raw, 7) if isinstance(e, UsageReport)]

    assert len(reports) == 2  # the usage so far after each chunk; the last one counts
    assert reports[-1] == UsageReport(**case["normalised"])


@pytest.mark.parametrize(
    ("reason", "finish"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("OTHER", "stop"),
    ],
)
def test_finish_reasons_map_to_openai_ones(reason: str, finish: str) -> None:
    body = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": reason}]}

    assert FinishReason(finish) in parse_response(json.dumps(body).encode())


def test_a_blocked_prompt_is_a_content_filter_finish() -> None:
    body = {
        "promptFeedback": {"blockReason": "SAFETY"},
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
    }

    events = parse_response(json.dumps(body).encode())

    assert FinishReason("content_filter") in events
    assert UsageReport(8, 0, 8) in events


def test_a_rejected_key_is_a_credential_failure_not_the_callers_400() -> None:
    """Google answers a wrong key with 400 INVALID_ARGUMENT; the router must treat it as 401
    (fall back to the next credential, never show it to the caller)."""
    error = error_from_response(400, (FIXTURES / "gemini_error_bad_key.json").read_bytes())

    assert (error.status, error.code) == (401, "INVALID_ARGUMENT")
    assert error.message == "API key not valid. Please pass a valid API key."


@pytest.mark.parametrize(
    ("status", "raw", "expected"),
    [
        (
            429,
            b'{"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",'
            b' "status": "RESOURCE_EXHAUSTED"}}',
            (429, "invalid_request_error", "RESOURCE_EXHAUSTED"),
        ),
        (
            400,
            b'[{"error": {"code": 400, "message": "Please use a valid role: user, model.",'
            b' "status": "INVALID_ARGUMENT"}}]',
            (400, "invalid_request_error", "INVALID_ARGUMENT"),
        ),
        (503, b"<html>Service Unavailable</html>", (503, "api_error", "")),
    ],
)
def test_google_error_bodies_map(status: int, raw: bytes, expected: tuple[int, str, str]) -> None:
    error = error_from_response(status, raw)

    assert (error.status, error.type, error.code) == expected


def test_an_error_inside_the_stream_raises() -> None:
    [sse] = SseDecoder().feed(
        b'data: {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}\r\n\r\n'
    )

    with pytest.raises(ProviderError) as raised:
        ResponseParser().feed(sse)
    assert (raised.value.status, raised.value.code) == (503, "UNAVAILABLE")


@pytest.mark.parametrize(
    "payload",
    [
        b'{"candidates": [{"content": {"parts": ["text"]}}]}',
        b'{"candidates": "none"}',
        b"[1]",
        b"{not json",
    ],
)
def test_malformed_chunks_are_provider_errors_not_crashes(payload: bytes) -> None:
    [sse] = SseDecoder().feed(b"data: " + payload + b"\n\n")

    with pytest.raises(ProviderError) as raised:
        ResponseParser().feed(sse)
    assert raised.value.status == 0
