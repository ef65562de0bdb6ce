"""The ``@anthropic-ai/sdk`` npm SDK pointed at Tollgate's root (``ANTHROPIC_BASE_URL``): a
message whole and streamed (accumulated by the SDK), a tool round trip with Claude's signed
thinking sent back, count_tokens, and an unknown key raised as the SDK's own error. Skips,
saying so, without ``node``."""

from __future__ import annotations

from typing import Any

import pytest
from tollgate_cli.stack import Stack

from tests.support.api import generation
from tests.support.catalog import ANTHROPIC_MODEL, GEMINI_MODEL
from tests.support.node_clients import NodeClient, node_client, ok
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

OPENAI_MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def anthropic_node(stack: Stack) -> NodeClient:
    return node_client("anthropic.mjs")(stack)


def test_a_message_on_an_openai_model(
    stack: Stack, anthropic_node: NodeClient, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(reply="Hello from GPT.")

    message = ok(anthropic_node("create", model=OPENAI_MODEL, content="hello from node"))

    assert (message["type"], message["role"], message["model"]) == (
        "message",
        "assistant",
        OPENAI_MODEL,
    )
    assert message["content"] == [{"type": "text", "text": "Hello from GPT."}]
    assert message["stop_reason"] == "end_turn" and message["usage"]["output_tokens"] > 0
    record = eventually(lambda: generation(stack, message["id"]))
    assert record["provider_name"] == "openai" and record["streamed"] is False


def test_a_streamed_message_on_a_gemini_model(
    stack: Stack, anthropic_node: NodeClient, fresh_gemini: Upstream
) -> None:
    fresh_gemini.script(reply="Hello from Gemini.")

    streamed = ok(anthropic_node("stream", model=GEMINI_MODEL, content="hello"))

    assert streamed["text"] == "Hello from Gemini."
    message = streamed["message"]
    assert message["content"] == [{"type": "text", "text": "Hello from Gemini."}]
    assert message["usage"]["input_tokens"] > 0
    record = eventually(lambda: generation(stack, message["id"]))
    assert record["provider_name"] == "google" and record["streamed"] is True


def test_a_tool_round_trip_with_claudes_signed_thinking(
    stack: Stack, anthropic_node: NodeClient, fresh_anthropic: Upstream
) -> None:
    fresh_anthropic.script(
        reply="",
        thinking="Look it up",
        tool_use={"name": "get_weather", "input": {"city": "Paris"}},
    )
    fresh_anthropic.script(reply="Sunny in Paris.")  # the second answer, queued

    done = ok(
        anthropic_node(
            "tools", model=ANTHROPIC_MODEL, content="Weather?", result="sunny", thinking=True
        )
    )

    first: Any = done["first"]
    assert [b["type"] for b in first["content"]] == ["thinking", "tool_use"]
    assert first["content"][0]["signature"]
    assert first["content"][1]["input"] == {"city": "Paris"}
    assert done["second"]["content"] == [{"type": "text", "text": "Sunny in Paris."}]
    turn: Any = fresh_anthropic.requests()[-1]["body"]["messages"][1]  # type: ignore[index]
    assert turn["content"][0]["signature"] == first["content"][0]["signature"]


def test_count_tokens_and_a_bad_key(stack: Stack, anthropic_node: NodeClient) -> None:
    counted = ok(anthropic_node("count", model=ANTHROPIC_MODEL, content="How many tokens?"))
    assert counted["input_tokens"] > 0

    refused = node_client("anthropic.mjs", api_key="tg-not-a-key")(stack)(
        "create", model=ANTHROPIC_MODEL, content="hi"
    )
    assert refused["error"]["status"] == 401
