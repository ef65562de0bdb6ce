"""The ``openai`` npm SDK pointed at Tollgate's base URL and nothing else changed: chat
completions whole and streamed (with the usage chunk), tool calls (also accumulated by the SDK's
own stream helper), embeddings as floats and as the base64 the SDK decodes itself, and the
generation id found again by ``GET /v1/generation``. Skips, saying so, without ``node``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tollgate_cli.stack import Stack

from tests.fakes.embedding_vectors import fake_vector
from tests.support.api import generation
from tests.support.node_clients import NodeClient, node_client, ok
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

MODEL = "openai/gpt-4o-mini"
EMBEDDINGS = "openai/text-embedding-3-small"
CALLS = [{"city": "Paris"}, {"city": "Rome"}]


@pytest.fixture
def openai_node(stack: Stack) -> NodeClient:
    return node_client("openai.mjs")(stack)


def test_chat_completion_and_its_generation(
    stack: Stack, openai_node: NodeClient, fresh_upstream: Upstream
) -> None:
    completion = ok(openai_node("chat", model=MODEL, content="hello from node"))

    assert completion["id"].startswith("gen_") and completion["model"] == MODEL
    [choice] = completion["choices"]
    assert choice["message"]["content"] == "Echo: hello from node"
    assert choice["finish_reason"] == "stop"
    assert completion["usage"]["prompt_tokens"] == 3
    record = eventually(lambda: generation(stack, completion["id"]))
    assert record is not None and record["model"] == MODEL and record["streamed"] is False


def test_streamed_chat_completion(
    stack: Stack, openai_node: NodeClient, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(chunk_delay_ms=20)  # one word per read, not all in one

    chunks = ok(openai_node("stream", model=MODEL, content="stream to node please"))["chunks"]

    assert len({c["id"] for c in chunks}) == 1
    deltas = [c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]]
    assert len([d for d in deltas if d]) > 1
    assert "".join(deltas) == "Echo: stream to node please"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 5


@pytest.mark.parametrize("command", ["tools", "tools-stream"])
def test_tool_calls(
    stack: Stack, openai_node: NodeClient, fresh_upstream: Upstream, command: str
) -> None:
    fresh_upstream.script(tool_calls=[{"name": "get_weather", "arguments": c} for c in CALLS])

    completion = ok(openai_node(command, model=MODEL, content="Weather in Paris and Rome?"))

    [choice] = completion["choices"]
    assert choice["finish_reason"] == "tool_calls"
    calls = choice["message"]["tool_calls"]
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls] == [
        ("get_weather", c) for c in CALLS
    ]
    assert len({c["id"] for c in calls}) == 2
    [sent] = fresh_upstream.requests()
    body: Any = sent["body"]
    assert body["tool_choice"] == "required"
    assert body["tools"][0]["function"]["name"] == "get_weather"


@pytest.mark.parametrize("encoding", ["float", None])
def test_embeddings(
    stack: Stack, openai_node: NodeClient, fresh_upstream: Upstream, encoding: str | None
) -> None:
    texts = ["first input", "second input here"]

    response = ok(
        openai_node("embeddings", model=EMBEDDINGS, input=texts, encoding_format=encoding)
    )

    assert [d["index"] for d in response["data"]] == [0, 1]
    for item, text in zip(response["data"], texts, strict=True):
        assert item["embedding"] == pytest.approx(fake_vector(text, 1536))
    assert response["usage"]["prompt_tokens"] == 5
    # Without a format the SDK asks for base64 (and decoded the answer itself).
    [asked] = response["sent"]
    assert asked["encoding_format"] == (encoding or "base64")
