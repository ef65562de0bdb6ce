"""bench/json_choice.py: its payloads have the shapes the APIs document, every installed JSON
library agrees on them (json and orjson always; msgspec and ujson where installed), and a library
that does not agree is reported instead of timed."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from typing import Any

import pytest

from bench import json_choice
from bench.json_choice import Candidate, Payload


def _payload(name: str) -> Payload:
    return next(p for p in json_choice.payloads() if p.name == name)


def _decoded(name: str) -> Any:
    payload = _payload(name)
    return json.loads(payload.value) if payload.operation == "decode" else payload.value


def test_the_request_is_a_chat_completion_body_with_a_conversation_and_tools() -> None:
    raw = _payload("request").value
    body = _decoded("request")
    assert 6_000 <= len(raw) <= 10_000
    assert body["model"] == "openai/gpt-4o"
    assert body["stream"] is True
    messages = body["messages"]
    assert messages[0]["role"] == "system"
    assert len(messages) >= 20
    assert {m["role"] for m in messages} == {"system", "user", "assistant", "tool"}
    # Each tool result answers a call of the assistant message before it, as OpenAI requires.
    for before, message in itertools.pairwise(messages):
        if message["role"] == "tool":
            calls = [c["id"] for c in before.get("tool_calls") or ()]
            assert message["tool_call_id"] in calls
    assert len(body["tools"]) == 4
    for tool in body["tools"]:
        assert tool["type"] == "function"
        assert tool["function"]["parameters"]["type"] == "object"


def test_the_provider_request_is_the_clients_conversation_for_the_providers_model() -> None:
    client, provider = _decoded("request"), _decoded("provider_request")
    assert provider["model"] == "gpt-4o"
    assert provider["messages"] == client["messages"]
    assert provider["tools"] == client["tools"]
    assert "metadata" not in provider


def test_the_provider_answer_is_a_chat_completion() -> None:
    body = _decoded("openai_completion")
    assert body["object"] == "chat.completion"
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant"
    assert message["content"].startswith("Three things are worth watching")
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_the_chunk_and_the_delta_are_what_a_stream_carries() -> None:
    chunk = _decoded("sse_chunk")
    assert chunk["object"] == "chat.completion.chunk"
    assert chunk["choices"][0]["delta"] == _decoded("sse_delta") == {"content": " replicas"}


def test_the_edge_completion_carries_the_gateway_metadata() -> None:
    body = _decoded("edge_completion")
    assert body["object"] == "chat.completion"
    message = body["choices"][0]["message"]
    assert message["content"] == _decoded("openai_completion")["choices"][0]["message"]["content"]
    routing = message["provider_metadata"]["gateway"]["routing"]
    assert [(a["provider"], a["statusCode"]) for a in routing["attempts"]] == [
        ("azure", 429),
        ("openai", 200),
    ]
    assert routing["finalProvider"] == "openai"
    assert [s["provider"] for s in routing["skipped"]] == ["vertex"]
    assert body["usage"]["prompt_tokens_details"] == {"cached_tokens": 1536}


def test_the_anthropic_event_is_a_text_delta() -> None:
    event = _decoded("anthropic_event")
    assert event["type"] == "content_block_delta"
    assert event["delta"]["type"] == "text_delta"
    assert event["delta"]["text"] == "Three"


def test_every_installed_library_agrees_on_every_payload() -> None:
    found, missing = json_choice.candidates()
    names = [c.name for c in found]
    assert names[:2] == ["json", "orjson"]
    assert set(names[2:]) | set(missing) == {"msgspec", "ujson"}
    for payload in json_choice.payloads():
        for candidate in found:
            assert json_choice.check(candidate, payload) is None, (candidate.name, payload.name)


def _stdlib() -> Candidate:
    return json_choice.candidates()[0][0]


@pytest.mark.parametrize(
    ("broken", "payload", "reported"),
    [
        # Decodes true as 1: equal in Python (True == 1), still a different document.
        (
            {"loads": lambda raw: {**json.loads(raw), "stream": 1}},
            "request",
            "$.stream: int 1 vs bool True",
        ),
        ({"dumps": json.dumps}, "sse_chunk", "encodes to str, not bytes"),
        (
            {"dumps": lambda obj: json.dumps({**obj, "usage": {}}).encode()},
            "sse_chunk",
            "$.usage: dict {} vs NoneType None",
        ),
        ({"loads": lambda raw: json.loads(raw[:-1])}, "anthropic_event", "raises JSONDecodeError"),
    ],
)
def test_a_library_that_differs_is_reported(
    broken: dict[str, Any], payload: str, reported: str
) -> None:
    candidate = replace(_stdlib(), name="broken", **broken)
    found = json_choice.check(candidate, _payload(payload))
    assert found is not None
    assert found.startswith(reported)


def test_a_run_times_each_payload_against_orjson_and_tables_it() -> None:
    result = json_choice.run(runs=1, min_time=0.001)
    assert [row["payload"] for row in result["payloads"]] == [
        "request",
        "provider_request",
        "openai_completion",
        "sse_chunk",
        "sse_delta",
        "edge_completion",
        "anthropic_event",
    ]
    for row in result["payloads"]:
        assert row["differs"] == {}
        assert row["results"]["orjson"]["ratio_to_orjson"] == 1.0
        assert row["results"]["json"]["us_per_op"] > 0
    table = json_choice.table(result).splitlines()
    assert table[0].startswith("| payload | op | bytes | json | orjson")
    assert len(table) == 2 + 7


def test_a_differing_library_is_left_out_of_the_timing_and_shown_as_differing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found, missing = json_choice.candidates()
    orjson = next(c for c in found if c.name == "orjson")
    broken = replace(orjson, dumps=lambda obj: orjson.dumps({**obj, "extra": True}))
    monkeypatch.setattr(json_choice, "candidates", lambda: ([found[0], broken], missing))
    result = json_choice.run(runs=1, min_time=0.001)
    sse_chunk = next(row for row in result["payloads"] if row["payload"] == "sse_chunk")
    assert set(sse_chunk["results"]) == {"json"}
    assert sse_chunk["differs"]["orjson"].startswith("$: keys")
    assert "| sse_chunk | encode | 260 | " in json_choice.table(result)
    assert "| differs |" in json_choice.table(result)
