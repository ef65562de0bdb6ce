"""The OpenAI Chat Completions adapter fed recorded OpenAI responses (SSE and JSON)."""

from __future__ import annotations

import json
from pathlib import Path

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
    ResponseStart,
    TextDelta,
    UsageReport,
)
from tollgate_router.providers import ProviderError, UpstreamCall
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.providers.openai_chat import OpenAIChatAdapter
from tollgate_router.providers.openai_wire import (
    ChunkParser,
    error_from_response,
    parse_completion,
    request_body,
)
from tollgate_router.providers.sse import SseDecoder

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED_STREAM = (FIXTURES / "openai_chat_stream.sse").read_bytes()
RECORDED_TEXT = "**Holiday Name:** Harmony Day\n\n"


def parse_stream(raw: bytes, piece: int) -> list[ProviderEvent]:
    decoder, parser = SseDecoder(), ChunkParser()
    events: list[ProviderEvent] = []
    for start in range(0, len(raw), piece):
        for sse in decoder.feed(raw[start : start + piece]):
            events.extend(parser.feed(sse))
    for sse in decoder.close():
        events.extend(parser.feed(sse))
    assert parser.done and parser.finished
    return events


@pytest.mark.parametrize("piece", [1, 7, 64, 100_000])
def test_recorded_stream_parses_to_typed_events(piece: int) -> None:
    events = parse_stream(RECORDED_STREAM, piece)

    assert events[0] == ResponseStart(
        response_id="chatcmpl-D8Z5oo6uDh67AD85p73ksdT1KxhE0",
        model="gpt-4.1-nano-2025-04-14",
        created=1770933892,
        system_fingerprint="fp_de604bd877",
    )
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(texts) == RECORDED_TEXT
    assert len(texts) == 7  # the role-only first delta carries no text
    assert events[-2:] == [
        FinishReason("stop"),
        UsageReport(prompt_tokens=16, completion_tokens=7, total_tokens=23),
    ]


def test_crlf_framing_and_comments_are_understood() -> None:
    raw = RECORDED_STREAM.replace(b"\n", b"\r\n")
    raw = b": keep-alive\r\n\r\n" + raw

    events = parse_stream(raw, 13)

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == RECORDED_TEXT


def test_usage_details_are_read() -> None:
    parser = ChunkParser()
    decoder = SseDecoder()
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "total_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 60, "audio_tokens": 0, "cache_write_tokens": 5},
        "completion_tokens_details": {"reasoning_tokens": 30},
    }
    raw = b"data: " + json.dumps({"id": "x", "choices": [], "usage": usage}).encode() + b"\n\n"

    [start, report] = [e for s in decoder.feed(raw) for e in parser.feed(s)]

    assert isinstance(start, ResponseStart)
    assert report == UsageReport(
        100, 50, 150, cached_tokens=60, cache_write_tokens=5, reasoning_tokens=30
    )


def test_an_error_event_mid_stream_raises_a_provider_error() -> None:
    parser = ChunkParser()
    [sse] = SseDecoder().feed(
        b'event: error\ndata: {"error": {"message": "overloaded", "type": "server_error"}}\n\n'
    )

    with pytest.raises(ProviderError) as raised:
        parser.feed(sse)
    assert raised.value.message == "overloaded"
    assert raised.value.type == "server_error"


def test_recorded_json_completion_parses_to_the_same_events() -> None:
    events = parse_completion((FIXTURES / "openai_chat_completion.json").read_bytes())

    assert events == [
        ResponseStart(
            "chatcmpl-D8Z5f52zQqikDBEKQMQoYcWMcWPeU",
            "gpt-4.1-nano-2025-04-14",
            1770933883,
            "fp_de604bd877",
        ),
        TextDelta("**Holiday Name:** Galaxy Day  \n\n**Date:** October 31st."),
        FinishReason("stop"),
        UsageReport(16, 363, 379),
    ]


def test_recorded_error_body_maps_to_a_typed_error() -> None:
    error = error_from_response(
        400, (FIXTURES / "openai_error_unsupported_parameter.json").read_bytes()
    )

    assert error.status == 400
    assert error.type == "invalid_request_error"
    assert error.code == "unsupported_parameter"
    assert error.param == "max_tokens"
    assert error.message.startswith("Unsupported parameter: 'max_tokens'")


@pytest.mark.parametrize(
    ("status", "raw", "kind", "message"),
    [
        (502, b"<html>Bad gateway</html>", "api_error", "<html>Bad gateway</html>"),
        (429, b'{"error": "slow down"}', "invalid_request_error", "slow down"),
        (503, b"", "api_error", "provider answered HTTP 503"),
        (500, b'{"error": {"message": "boom", "type": null, "code": 42}}', "api_error", "boom"),
    ],
)
def test_unusual_error_bodies_still_map(status: int, raw: bytes, kind: str, message: str) -> None:
    error = error_from_response(status, raw)

    assert (error.status, error.type, error.message) == (status, kind, message)


def call(messages: tuple[Message, ...], stream: bool, **params: object) -> UpstreamCall:
    return UpstreamCall(
        base_url="http://upstream/v1",
        api_key="sk-secret",
        provider_model_id="gpt-4o-mini",
        messages=messages,
        params=GenerationParams(**params),  # type: ignore[arg-type]
        stream=stream,
    )


def test_request_body_carries_messages_params_and_always_asks_for_stream_usage() -> None:
    messages = (
        Message("system", "Be brief."),
        Message(
            "user",
            (
                TextPart("What is this?"),
                ImagePart("https://example.com/cat.png", "low"),
                FilePart("JVBERi0=", "application/pdf", "a.pdf"),
                FilePart("data:audio/wav;base64,UklGRg==", "audio/wav"),
            ),
            name="ann",
        ),
        Message("assistant", None, tool_calls=(ToolCall("call_1", "lookup", '{"q":"cat"}'),)),
        Message("tool", '{"answer": 42}', tool_call_id="call_1"),
    )

    body = request_body(
        call(
            messages,
            True,
            temperature=0.2,
            max_completion_tokens=64,
            stop=("END",),
            seed=7,
            user="u1",
        )
    )

    assert body["model"] == "gpt-4o-mini"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.2
    assert body["max_completion_tokens"] == 64
    assert body["stop"] == ["END"]
    assert body["seed"] == 7
    assert body["user"] == "u1"
    assert "max_tokens" not in body and "top_p" not in body
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://example.com/cat.png", "detail": "low"},
                },
                {
                    "type": "file",
                    "file": {
                        "file_data": "data:application/pdf;base64,JVBERi0=",
                        "filename": "a.pdf",
                    },
                },
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
            ],
            "name": "ann",
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": '{"q":"cat"}'},
                }
            ],
        },
        {"role": "tool", "content": '{"answer": 42}', "tool_call_id": "call_1"},
    ]


def test_non_streaming_body_has_no_stream_options() -> None:
    body = request_body(call((Message("user", "hi"),), False, max_tokens=5))

    assert body["stream"] is False
    assert "stream_options" not in body
    assert body["max_tokens"] == 5


def test_the_call_repr_hides_the_key() -> None:
    assert "sk-secret" not in repr(call((Message("user", "hi"),), False))


# -- without an answer ---------------------------------------------------------------------------


async def test_adapter_reports_an_unreachable_provider() -> None:
    async with HttpClient() as session:
        adapter = OpenAIChatAdapter(session)
        request = call((Message("user", "hi"),), True)

        with pytest.raises(ProviderError) as raised:
            await adapter.open(
                UpstreamCall(
                    "http://127.0.0.1:9/v1", "k", "m", request.messages, request.params, True
                )
            )

    assert raised.value.status == 0


@pytest.mark.parametrize(
    "payload",
    [
        b'{"id": "x", "choices": ["not an object"]}',
        b'{"id": "x", "created": "yesterday", "choices": []}',
        b'{"id": "x", "choices": [], "usage": {"prompt_tokens": "many"}}',
        b"[1, 2, 3]",
        b"{not json",
    ],
)
def test_malformed_chunks_are_provider_errors_not_crashes(payload: bytes) -> None:
    [sse] = SseDecoder().feed(b"data: " + payload + b"\n\n")

    with pytest.raises(ProviderError) as raised:
        ChunkParser().feed(sse)
    assert raised.value.status == 0


def test_malformed_json_completion_is_a_provider_error() -> None:
    with pytest.raises(ProviderError):
        parse_completion(b'{"id": "x", "choices": [{"message": "text"}]}')
