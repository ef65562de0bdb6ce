"""``ai`` 5 with ``@ai-sdk/openai-compatible`` 1 pointed at Tollgate's OpenAI-compatible base URL
and nothing else changed: ``generateText``, ``streamText``, tool calls (whole and streamed),
``embed`` / ``embedMany``. Skips, saying so, without ``node``."""

from __future__ import annotations

from typing import Any

import pytest
from tollgate_cli.stack import Stack

from tests.fakes.embedding_vectors import fake_vector
from tests.support.api import generation
from tests.support.catalog import ANTHROPIC_MODEL
from tests.support.node_clients import NodeClient, node_client, ok
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

MODEL = "openai/gpt-4o-mini"
EMBEDDINGS = "openai/text-embedding-3-small"
CALLS = [{"city": "Paris"}, {"city": "Rome"}]


@pytest.fixture
def compatible(stack: Stack) -> NodeClient:
    return node_client("compatible.mjs")(stack)


def test_generate_text(stack: Stack, compatible: NodeClient, fresh_upstream: Upstream) -> None:
    result = ok(compatible("generate", model=MODEL, prompt="hello compatible client"))

    assert result["text"] == "Echo: hello compatible client"
    assert result["finishReason"] == "stop"
    assert result["usage"]["inputTokens"] == 3 and result["usage"]["outputTokens"] == 4
    generation_id = result["response"]["id"]
    assert generation_id.startswith("gen_")
    record = eventually(lambda: generation(stack, generation_id))
    assert record is not None and record["model"] == MODEL


def test_stream_text(stack: Stack, compatible: NodeClient, fresh_anthropic: Upstream) -> None:
    fresh_anthropic.script(chunk_delay_ms=20)  # one word per read, not all in one

    result = ok(compatible("stream", model=ANTHROPIC_MODEL, prompt="stream through claude now"))

    assert result["text"] == "Echo: stream through claude now"
    assert len(result["deltas"]) > 1 and "".join(result["deltas"]) == result["text"]
    assert result["finishReason"] == "stop"
    assert result["usage"]["outputTokens"] == 5  # includeUsage: the usage chunk was read


@pytest.mark.parametrize("command", ["tools", "tools-stream"])
def test_tool_calls(
    stack: Stack, compatible: NodeClient, fresh_upstream: Upstream, command: str
) -> None:
    fresh_upstream.script(tool_calls=[{"name": "weather", "arguments": c} for c in CALLS])

    result = ok(compatible(command, model=MODEL, prompt="Weather in Paris and Rome?"))

    assert result["finishReason"] == "tool-calls"
    assert [(c["name"], c["input"]) for c in result["toolCalls"]] == [("weather", c) for c in CALLS]
    if command == "tools":
        assert result["toolResults"] == [
            {"city": "Paris", "forecast": "sunny"},
            {"city": "Rome", "forecast": "sunny"},
        ]
    [sent] = fresh_upstream.requests()
    body: Any = sent["body"]
    assert body["tools"][0]["function"]["name"] == "weather"


def test_embed_and_embed_many(
    stack: Stack, compatible: NodeClient, fresh_upstream: Upstream
) -> None:
    one = ok(compatible("embed", model=EMBEDDINGS, value="compatible embedding"))
    many = ok(compatible("embed-many", model=EMBEDDINGS, values=["one", "two words"]))

    assert one["embedding"] == pytest.approx(fake_vector("compatible embedding", 1536))
    assert one["usage"] == {"tokens": 2}
    assert many["embeddings"] == [
        pytest.approx(fake_vector("one", 1536)),
        pytest.approx(fake_vector("two words", 1536)),
    ]
    assert many["usage"] == {"tokens": 3}
