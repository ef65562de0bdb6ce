"""The OpenAI Agents SDK (``openai-agents``) pointed at Tollgate by base URL and key only: its
``OpenAIResponsesModel`` over an ``AsyncOpenAI`` client with Tollgate's ``base_url``, tracing
off (it would upload traces to OpenAI). A tool-using agent runs on an OpenAI and an Anthropic
model of the catalog through ``/v1/responses``: the SDK runs the tool the model asks for, sends
its result back and returns the model's final answer; each model call is billed and logged as a
generation of surface ``responses``."""

from __future__ import annotations

from typing import Any

import pytest
from tollgate_cli.stack import Stack

from tests.support.api import generation
from tests.support.catalog import ANTHROPIC_MODEL
from tests.support.polling import eventually
from tests.support.py_clients import (
    CHAT_MODEL,
    QUESTION,
    Gateway,
    activity_row,
    gateway,
    sent,
    tool_results,
)
from tests.support.upstreams import Upstream

__all__ = ["gateway"]

WEATHER = "sunny in Paris, 24 °C"


def weather_agent(gateway: Gateway, model: str, calls: list[str]) -> Any:
    from agents import Agent, OpenAIResponsesModel, function_tool, set_tracing_disabled
    from openai import AsyncOpenAI

    set_tracing_disabled(True)
    client = AsyncOpenAI(base_url=gateway.base_url, api_key=gateway.api_key)

    @function_tool
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        calls.append(city)
        return f"sunny in {city}, 24 °C"

    return Agent(
        name="Weather",
        instructions="Answer with the weather tool.",
        model=OpenAIResponsesModel(model=model, openai_client=client),
        tools=[get_weather],
    )


def generation_ids(result: Any) -> list[str]:
    """The generations behind the run's model calls (``resp_<ULID>`` is ``gen_<ULID>``)."""
    ids = [r.response_id for r in result.raw_responses]
    assert all(i.startswith("resp_") for i in ids), ids
    return ["gen_" + i.removeprefix("resp_") for i in ids]


def assert_billed_as_responses(
    stack: Stack, gateway: Gateway, ids: list[str], provider: str
) -> None:
    for generation_id in ids:
        record = eventually(lambda g=generation_id: generation(stack, g))  # type: ignore[misc]
        assert record["provider_name"] == provider and record["total_cost"] > 0
        assert activity_row(gateway, generation_id)["surface"] == "responses"


async def test_agent_calls_its_tool_on_an_openai_model(
    stack: Stack, gateway: Gateway, fresh_upstream: Upstream
) -> None:
    from agents import Runner

    fresh_upstream.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    fresh_upstream.script(reply="It is sunny in Paris.")
    calls: list[str] = []

    result = await Runner.run(weather_agent(gateway, CHAT_MODEL, calls), QUESTION)

    assert result.final_output == "It is sunny in Paris."
    assert calls == ["Paris"]
    first, follow_up = sent(fresh_upstream, "/chat/completions")
    assert [t["function"]["name"] for t in first["tools"]] == ["get_weather"]
    assert first["messages"][0] == {"role": "system", "content": "Answer with the weather tool."}
    [(call_id, output)] = tool_results(follow_up)
    assert output == WEATHER and call_id
    ids = generation_ids(result)
    assert len(ids) == 2
    assert_billed_as_responses(stack, gateway, ids, "openai")


async def test_agent_calls_its_tool_on_an_anthropic_model(
    stack: Stack, gateway: Gateway, fresh_anthropic: Upstream
) -> None:
    from agents import Runner

    fresh_anthropic.script(reply="", tool_use={"name": "get_weather", "input": {"city": "Paris"}})
    fresh_anthropic.script(reply="Paris: sunny, 24 °C.")
    calls: list[str] = []

    result = await Runner.run(weather_agent(gateway, ANTHROPIC_MODEL, calls), QUESTION)

    assert result.final_output == "Paris: sunny, 24 °C."
    assert calls == ["Paris"]
    first, follow_up = sent(fresh_anthropic, "/messages")
    assert [t["name"] for t in first["tools"]] == ["get_weather"]
    [tool_result] = [
        block
        for message in follow_up["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block["type"] == "tool_result"
    ]
    assert WEATHER in str(tool_result["content"])
    assert_billed_as_responses(stack, gateway, generation_ids(result), "anthropic")


@pytest.mark.parametrize("model", [CHAT_MODEL, ANTHROPIC_MODEL])
async def test_streamed_run_calls_the_tool_then_streams_the_answer(
    stack: Stack,
    gateway: Gateway,
    fresh_upstream: Upstream,
    fresh_anthropic: Upstream,
    model: str,
) -> None:
    from agents import Runner
    from openai.types.responses import ResponseTextDeltaEvent

    if model == CHAT_MODEL:
        fresh_upstream.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Rome"}}])
        fresh_upstream.script(reply="Rome is sunny today.")
    else:
        fresh_anthropic.script(
            reply="", tool_use={"name": "get_weather", "input": {"city": "Rome"}}
        )
        fresh_anthropic.script(reply="Rome is sunny today.")
    calls: list[str] = []

    result = Runner.run_streamed(weather_agent(gateway, model, calls), "Weather in Rome?")
    deltas = [
        event.data.delta
        async for event in result.stream_events()
        if event.type == "raw_response_event" and isinstance(event.data, ResponseTextDeltaEvent)
    ]

    assert result.final_output == "Rome is sunny today."
    assert "".join(deltas) == "Rome is sunny today."
    assert calls == ["Rome"]
    provider = "openai" if model == CHAT_MODEL else "anthropic"
    assert_billed_as_responses(stack, gateway, generation_ids(result), provider)
