"""Chunk and completion encoding (no network)."""

from __future__ import annotations

import json

from tollgate.router.v1 import router_pb2
from tollgate_edge.chat_response import Answer, ChunkEncoder, completion_body, usage_object

STARTED = router_pb2.GenerationStarted(generation_id="gen_1", model="openai/gpt-4o")


def test_usage_reports_cache_writes_only_when_present() -> None:
    assert usage_object(None) == {
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    usage = usage_object(
        router_pb2.Usage(input_tokens=10, output_tokens=5, cache_write_tokens=3, reasoning_tokens=2)
    )
    assert usage["total_tokens"] == 15
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 3}
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 2}


def test_chunks_are_single_data_lines() -> None:
    encoder = ChunkEncoder(STARTED, "openai/gpt-4o", include_usage=False)
    text = encoder.text('line one\nline "two"\n\n')
    assert text.startswith(b"data: {") and text.endswith(b"}\n\n")
    assert text.count(b"\n") == 2  # newlines in the content are escaped inside the JSON
    chunk = json.loads(text[6:])
    assert chunk["choices"][0]["delta"] == {"content": 'line one\nline "two"\n\n'}
    assert "system_fingerprint" not in chunk and "usage" not in chunk
    assert chunk["created"] > 0


def test_finish_without_reason_is_stop() -> None:
    encoder = ChunkEncoder(STARTED, "openai/gpt-4o", include_usage=True)
    chunk = json.loads(encoder.finish("", {"gateway": {}})[6:])
    assert chunk["choices"][0]["finish_reason"] == "stop"
    assert chunk["usage"] is None


def test_completion_body() -> None:
    body = json.loads(
        completion_body(
            STARTED,
            "openai/gpt-4o",
            Answer(),
            router_pb2.GenerationFinished(finish_reason="length"),
            None,
        )
    )
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["content"] == ""
    assert body["choices"][0]["message"]["refusal"] is None
    gateway = body["choices"][0]["message"]["provider_metadata"]["gateway"]
    assert gateway["generationId"] == "gen_1" and gateway["cost"] == "0"
    assert "system_fingerprint" not in body
