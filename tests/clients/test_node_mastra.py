"""Mastra's ``Agent`` on ``@ai-sdk/gateway``, its model ``createGateway({baseURL:
'<suite>/v1/ai', apiKey})('<catalog id>')`` and nothing else changed (tests/clients/node/
mastra.mjs): the agent generates, streams, and calls a tool Mastra runs before answering.
Skips, saying so, without ``node``."""

from __future__ import annotations

from typing import Any

import pytest
from tollgate_cli.stack import Stack

from tests.support.catalog import ANTHROPIC_MODEL
from tests.support.node_clients import NodeClient, node_client, ok
from tests.support.upstreams import Upstream

OPENAI_MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def mastra(stack: Stack) -> NodeClient:
    return node_client("mastra.mjs")(stack)


def test_an_agent_generates_with_the_instructions(
    mastra: NodeClient, fresh_upstream: Upstream
) -> None:
    result = ok(mastra("generate", model=OPENAI_MODEL, prompt="hello from mastra"))

    assert result["text"] == "Echo: hello from mastra" and result["finishReason"] == "stop"
    assert result["usage"]["outputTokens"] == 4
    [sent] = fresh_upstream.requests()
    body: Any = sent["body"]
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello from mastra"},
    ]


def test_an_agent_streams_in_pieces(mastra: NodeClient, fresh_upstream: Upstream) -> None:
    fresh_upstream.script(chunk_delay_ms=20)  # one word per read, not all in one

    result = ok(mastra("stream", model=OPENAI_MODEL, prompt="stream these words please"))

    assert result["text"] == "Echo: stream these words please"
    assert len(result["deltas"]) > 1 and "".join(result["deltas"]) == result["text"]
    assert result["finishReason"] == "stop" and result["usage"]["outputTokens"] == 5
    [sent] = fresh_upstream.requests()
    assert sent["body"]["stream"] is True  # type: ignore[index]


def test_an_agent_runs_a_tool_on_claude(mastra: NodeClient, fresh_anthropic: Upstream) -> None:
    fresh_anthropic.script(reply="", tool_use={"name": "weather", "input": {"city": "Paris"}})
    fresh_anthropic.script(reply="Sunny in Paris.")

    result = ok(mastra("tools", model=ANTHROPIC_MODEL, prompt="Weather in Paris?"))

    assert result["text"] == "Sunny in Paris." and result["steps"] == 2
    assert result["toolCalls"] == [{"name": "weather", "input": {"city": "Paris"}}]
    assert result["toolResults"] == [{"city": "Paris", "forecast": "sunny"}]
    first, second = fresh_anthropic.requests()
    assert [t["name"] for t in first["body"]["tools"]] == ["weather"]  # type: ignore[index]
    call, answer = second["body"]["messages"][-2:]  # type: ignore[index]
    assert call["content"][-1]["type"] == "tool_use"
    [tool_result] = answer["content"]
    assert tool_result["type"] == "tool_result"
    assert tool_result["tool_use_id"] == call["content"][-1]["id"]
