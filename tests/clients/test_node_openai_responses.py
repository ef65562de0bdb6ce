"""The ``openai`` npm SDK's ``responses`` pointed at Tollgate's base URL: a response whole on an
Anthropic model, one streamed on a Gemini model (the SDK's own stream helper), and a function
call round trip with ``previous_response_id`` on an OpenAI model. Skips, saying so, without
``node``."""

from __future__ import annotations

import json
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
def responses_node(stack: Stack) -> NodeClient:
    return node_client("openai_responses.mjs")(stack)


def billed(stack: Stack, response_id: str) -> dict[str, Any]:
    gen_id = "gen_" + response_id.removeprefix("resp_")
    record: dict[str, Any] = eventually(lambda: generation(stack, gen_id))
    return record


def test_a_response_on_an_anthropic_model(
    stack: Stack, responses_node: NodeClient, fresh_anthropic: Upstream
) -> None:
    fresh_anthropic.script(reply="Hello from Claude.")

    # Wrapped: a response's own `error` (null) is not the client's.
    response = ok(responses_node("create", model=ANTHROPIC_MODEL, input="hello from node"))[
        "response"
    ]

    assert (response["object"], response["status"]) == ("response", "completed")
    assert response["output_text"] == "Hello from Claude."
    assert response["usage"]["output_tokens"] > 0
    assert billed(stack, response["id"])["provider_name"] == "anthropic"


def test_a_streamed_response_on_a_gemini_model(
    stack: Stack, responses_node: NodeClient, fresh_gemini: Upstream
) -> None:
    fresh_gemini.script(reply="Hello from Gemini.")

    streamed = ok(responses_node("stream", model=GEMINI_MODEL, input="hello"))

    response = streamed["response"]
    assert response["output_text"] == "Hello from Gemini."
    kinds = streamed["kinds"]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    assert billed(stack, response["id"])["streamed"] is True


def test_a_function_call_round_trip_with_previous_response_id(
    stack: Stack, responses_node: NodeClient, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    fresh_upstream.script(reply="Sunny in Paris.")  # the second answer, queued

    done = ok(responses_node("tools", model=OPENAI_MODEL, input="Weather?", result="sunny"))

    [call] = [item for item in done["first"]["output"] if item["type"] == "function_call"]
    assert (call["name"], json.loads(call["arguments"])) == ("get_weather", {"city": "Paris"})
    assert done["second"]["output_text"] == "Sunny in Paris."
    sent: Any = fresh_upstream.requests()[-1]["body"]
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "tool"]
