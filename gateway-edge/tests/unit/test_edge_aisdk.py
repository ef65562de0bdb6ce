"""The AI SDK protocol's translations, without a network: V2 call options → the OpenAI chat
request the edge already validates, and the router's events → V2 stream parts and the generate
result."""

from __future__ import annotations

from typing import Any

import pytest
from tollgate.router.v1 import router_pb2
from tollgate_edge.aisdk.call_options import chat_request_body, renamed
from tollgate_edge.aisdk.parts import PartEncoder, generate_result
from tollgate_edge.aisdk.versions import V2, V3
from tollgate_edge.errors import ApiError, invalid_request


def body(**options: Any) -> dict[str, Any]:
    return chat_request_body(options, "openai/gpt-4o", False)[0]


def user(*parts: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(parts)}]


def test_file_parts_become_image_urls_or_files() -> None:
    messages = body(
        prompt=user(
            {"type": "text", "text": "look"},
            {"type": "file", "mediaType": "image/png", "data": "iVBORw0KGgo="},
            {"type": "file", "mediaType": "image/jpeg", "data": "https://example.test/a.jpg"},
            {
                "type": "file",
                "mediaType": "application/pdf",
                "data": "data:application/pdf;base64,JVBERi0=",
                "filename": "a.pdf",
            },
        )
    )["messages"]

    assert messages == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://example.test/a.jpg"}},
                {
                    "type": "file",
                    "file": {
                        "data": "data:application/pdf;base64,JVBERi0=",
                        "media_type": "application/pdf",
                        "filename": "a.pdf",
                    },
                },
            ],
        }
    ]


def test_a_tool_turn_with_signed_reasoning() -> None:
    prompt = [
        {"role": "system", "content": "Be brief."},
        *user({"type": "text", "text": "Weather?"}),
        {
            "role": "assistant",
            "content": [
                {
                    "type": "reasoning",
                    "text": "think",
                    "providerOptions": {
                        "gateway": {"format": "anthropic-claude-v1", "signature": "sig"}
                    },
                },
                {"type": "tool-call", "toolCallId": "c1", "toolName": "w", "input": {"a": 1}},
            ],
        },
        {
            "role": "tool",
            "content": [
                {
                    "type": "tool-result",
                    "toolCallId": "c1",
                    "toolName": "w",
                    "output": {"type": "json", "value": {"t": 20}},
                }
            ],
        },
    ]

    messages = body(prompt=prompt)["messages"]

    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert messages[1] == {"role": "user", "content": "Weather?"}
    assert messages[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "w", "arguments": '{"a":1}'}}
        ],
        "reasoning_details": [
            {
                "type": "reasoning.text",
                "text": "think",
                "format": "anthropic-claude-v1",
                "signature": "sig",
            }
        ],
    }
    assert messages[3] == {"role": "tool", "tool_call_id": "c1", "content": '{"t":20}'}


def test_settings_tools_and_routing_options() -> None:
    request, warnings = chat_request_body(
        {
            "prompt": user({"type": "text", "text": "hi"}),
            "maxOutputTokens": 10,
            "topP": 0.5,
            "topK": 3,
            "tools": [
                {"type": "function", "name": "w", "inputSchema": {"type": "object"}},
                {"type": "provider-defined", "id": "gateway.perplexity_search", "name": "s"},
            ],
            "toolChoice": {"type": "tool", "toolName": "w"},
            "responseFormat": {"type": "json", "schema": {"type": "object"}, "name": "out"},
            "providerOptions": {
                "gateway": {"order": ["openai"], "user": "u1"},
                "openai": {"reasoningEffort": "low"},
            },
        },
        "openai/gpt-4o",
        True,
    )

    assert request["stream"] is True
    assert request["max_tokens"] == 10 and request["top_p"] == 0.5 and "top_k" not in request
    assert request["tools"] == [
        {"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}
    ]
    assert request["tool_choice"] == {"type": "function", "function": {"name": "w"}}
    assert request["response_format"] == {
        "type": "json",
        "schema": {"type": "object"},
        "name": "out",
    }
    assert request["reasoning"] == {"effort": "low"} and request["user"] == "u1"
    assert [w["type"] for w in warnings] == ["unsupported-setting", "unsupported-tool"]


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("max_tokens", "maxOutputTokens"),
        ("tools[0].function.name", "tools[0].name"),
        ("tools[1].function.parameters", "tools[1].inputSchema"),
        ("tool_choice.function.name", "toolChoice.name"),
        ("dimensions", "dimensions"),
    ],
)
def test_errors_speak_the_sdks_names(param: str, expected: str) -> None:
    error = renamed(invalid_request(f"`{param}` is wrong", param))

    assert error.param == expected and error.message == f"`{expected}` is wrong"
    assert isinstance(error, ApiError) and error.status == 400


def events(*items: dict[str, Any]) -> list[router_pb2.StreamGenerateResponse]:
    return [router_pb2.StreamGenerateResponse(**item) for item in items]


def test_parts_bracket_reasoning_text_and_tool_calls() -> None:
    encoder = PartEncoder("gen_1", V2)
    parts: list[dict[str, Any]] = []
    for event in events(
        {"reasoning_delta": router_pb2.ReasoningDelta(text="hm", format="anthropic-claude-v1")},
        {"reasoning_delta": router_pb2.ReasoningDelta(signature="s", format="anthropic-claude-v1")},
        {"text_delta": router_pb2.TextDelta(text="Hi")},
        {"tool_call_delta": router_pb2.ToolCallDelta(index=0, id="c1", name="w", arguments='{"a"')},
        {"tool_call_delta": router_pb2.ToolCallDelta(index=0, arguments=":1}")},
        {"usage": router_pb2.Usage(input_tokens=3, output_tokens=4)},
        {"finished": router_pb2.GenerationFinished(finish_reason="tool_calls")},
    ):
        parts += encoder.event(event)
    parts += encoder.end()
    finish = encoder.finish()

    assert [p["type"] for p in parts] == [
        "reasoning-start",
        "reasoning-delta",
        "reasoning-end",
        "text-start",
        "text-delta",
        "text-end",
        "tool-input-start",
        "tool-input-delta",
        "tool-input-delta",
        "tool-input-end",
        "tool-call",
    ]
    assert parts[0]["providerMetadata"] == {"gateway": {"generationId": "gen_1"}}
    assert parts[2]["providerMetadata"] == {
        "gateway": {"format": "anthropic-claude-v1", "signature": "s"}
    }
    assert parts[-1] == {
        "type": "tool-call",
        "toolCallId": "c1",
        "toolName": "w",
        "input": '{"a":1}',
    }
    assert finish["finishReason"] == "tool-calls"
    assert finish["usage"]["totalTokens"] == 7

    result = generate_result(parts, finish, [])
    assert result["content"] == [
        {
            "type": "reasoning",
            "text": "hm",
            "providerMetadata": {"gateway": {"format": "anthropic-claude-v1", "signature": "s"}},
        },
        {"type": "text", "text": "Hi"},
        parts[-1],
    ]


def test_encrypted_reasoning_is_a_block_of_its_own() -> None:
    encoder = PartEncoder("gen_2", V2)
    [event] = events({"reasoning_delta": router_pb2.ReasoningDelta(data="xx", format="f")})

    parts = encoder.event(event)

    assert [p["type"] for p in parts] == ["reasoning-start", "reasoning-end"]
    assert parts[1]["providerMetadata"] == {"gateway": {"format": "f", "data": "xx"}}


def test_v3_shapes_finish_reason_usage_and_warnings() -> None:
    usage = router_pb2.Usage(
        input_tokens=10, output_tokens=8, cached_input_tokens=4, reasoning_tokens=3
    )

    assert V3.finish_reason("tool_calls") == {"unified": "tool-calls", "raw": "tool_calls"}
    assert V3.finish_reason("weird") == {"unified": "other", "raw": "weird"}
    assert V2.finish_reason("weird") == "unknown"
    assert V3.usage(usage) == {
        "inputTokens": {"total": 10, "noCache": 6, "cacheRead": 4, "cacheWrite": 0},
        "outputTokens": {"total": 8, "text": 5, "reasoning": 3},
    }
    _, warnings = chat_request_body(
        {"prompt": user({"type": "text", "text": "hi"}), "topK": 2}, "m", False, V3
    )
    assert warnings == [{"type": "unsupported", "feature": "topK"}]
