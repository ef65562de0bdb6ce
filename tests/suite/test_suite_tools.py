"""Tool calls through the whole suite (Envoy → edge → router → fake provider) with the official
openai SDK, for each adapter: ``tools`` / ``tool_choice`` reach the provider in its own shape,
the calls the provider made come back as OpenAI frames them (whole, and streamed and
accumulated by index), parallel calls keep their indices, and the tool results of a follow-up
turn reach the provider as its API wants them (the fakes reject what the real APIs reject)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.api import client
from tests.support.catalog import ANTHROPIC_MODEL, GEMINI_MODEL
from tests.support.tools import WEATHER
from tests.support.upstreams import Upstream

QUESTION = [{"role": "user", "content": "What is the weather in Paris and Rome?"}]
CALLS = [
    {"name": "get_weather", "arguments": {"city": "Paris"}},
    {"name": "get_weather", "arguments": {"city": "Rome"}},
]


@dataclass(frozen=True)
class Provider:
    name: str
    model: str
    fixture: str

    def script_calls(self, upstream: Upstream, calls: list[dict[str, Any]]) -> None:
        """The fake answers by calling ``calls``, in its own wire format."""
        if self.name == "openai":
            upstream.script(tool_calls=calls)
        elif self.name == "anthropic":
            upstream.script(
                reply="", tool_use=[{"name": c["name"], "input": c["arguments"]} for c in calls]
            )
        else:
            upstream.script(
                reply="", function_call=[{"name": c["name"], "args": c["arguments"]} for c in calls]
            )


PROVIDERS = [
    Provider("openai", "openai/gpt-4o-mini", "fresh_upstream"),
    Provider("anthropic", ANTHROPIC_MODEL, "fresh_anthropic"),
    Provider("google", GEMINI_MODEL, "fresh_gemini"),
]


@pytest.fixture(params=PROVIDERS, ids=[p.name for p in PROVIDERS])
def provider(request: pytest.FixtureRequest) -> tuple[Provider, Upstream]:
    chosen: Provider = request.param
    return chosen, request.getfixturevalue(chosen.fixture)


def sent_tools(name: str, body: dict[str, Any]) -> tuple[Any, Any]:
    """What the provider got as its tools and tool choice."""
    if name == "openai":
        return body["tools"], body.get("tool_choice")
    if name == "anthropic":
        return body["tools"], body.get("tool_choice")
    return body["tools"], body.get("toolConfig")


def test_parallel_tool_calls_without_streaming(
    stack: Stack, provider: tuple[Provider, Upstream]
) -> None:
    chosen, upstream = provider
    chosen.script_calls(upstream, CALLS)

    completion = client(stack).chat.completions.create(
        model=chosen.model, messages=QUESTION, tools=[WEATHER], tool_choice="required"
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [(c.type, c.function.name, json.loads(c.function.arguments)) for c in calls] == [  # type: ignore[union-attr]
        ("function", "get_weather", {"city": "Paris"}),
        ("function", "get_weather", {"city": "Rome"}),
    ]
    assert all(c.id for c in calls) and len({c.id for c in calls}) == 2

    [sent] = upstream.requests()
    tools, choice_sent = sent_tools(chosen.name, sent["body"])  # type: ignore[arg-type]
    schema = WEATHER["function"]["parameters"]  # type: ignore[index]
    if chosen.name == "openai":
        assert tools == [WEATHER] and choice_sent == "required"
    elif chosen.name == "anthropic":
        assert tools == [
            {
                "name": "get_weather",
                "description": "Current weather in a city",
                "input_schema": schema,
            }
        ]
        assert choice_sent == {"type": "any"}
    else:
        assert tools == [
            {
                "functionDeclarations": [
                    {
                        "name": "get_weather",
                        "description": "Current weather in a city",
                        "parametersJsonSchema": schema,
                    }
                ]
            }
        ]
        assert choice_sent == {"functionCallingConfig": {"mode": "ANY"}}


def test_streamed_tool_calls_accumulate_to_the_calls_made(
    stack: Stack, provider: tuple[Provider, Upstream]
) -> None:
    chosen, upstream = provider
    chosen.script_calls(upstream, CALLS)

    stream = client(stack).chat.completions.create(
        model=chosen.model, messages=QUESTION, tools=[WEATHER], stream=True
    )
    calls: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in stream:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for piece in choice.delta.tool_calls or ():
            call = calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
            if piece.id:
                assert not call["id"], "the id comes once, on the call's first chunk"
                assert piece.type == "function" and piece.function and piece.function.name
                call["id"] = piece.id
            if piece.function and piece.function.name:
                call["name"] = piece.function.name
            call["arguments"] += (piece.function.arguments if piece.function else "") or ""

    assert finish == "tool_calls"
    assert sorted(calls) == [0, 1]
    assert [(c["name"], json.loads(c["arguments"])) for c in calls.values()] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Rome"}),
    ]
    assert all(c["id"] for c in calls.values())


def test_tool_results_reach_the_provider_in_a_follow_up_turn(
    stack: Stack, provider: tuple[Provider, Upstream]
) -> None:
    chosen, upstream = provider
    api = client(stack)
    chosen.script_calls(upstream, CALLS[:1])
    first = api.chat.completions.create(model=chosen.model, messages=QUESTION, tools=[WEATHER])
    [call] = first.choices[0].message.tool_calls or []
    upstream.script(reply="It is sunny in Paris.")

    answer = api.chat.completions.create(
        model=chosen.model,
        messages=[
            *QUESTION,
            first.choices[0].message.model_dump(exclude_none=True, exclude={"provider_metadata"}),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 21, "sky": "clear"}'},
        ],
        tools=[WEATHER],
    )

    assert answer.choices[0].message.content == "It is sunny in Paris."
    assert answer.choices[0].finish_reason == "stop"
    body: Any = upstream.requests()[-1]["body"]
    if chosen.name == "openai":
        assistant, result = body["messages"][1], body["messages"][2]
        assert assistant["tool_calls"][0]["id"] == call.id
        assert result == {
            "role": "tool",
            "content": '{"temp_c": 21, "sky": "clear"}',
            "tool_call_id": call.id,
        }
    elif chosen.name == "anthropic":
        assistant, result = body["messages"][1], body["messages"][2]
        assert assistant["content"] == [
            {"type": "tool_use", "id": call.id, "name": "get_weather", "input": {"city": "Paris"}}
        ]
        assert result == {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": call.id,
                    "content": '{"temp_c": 21, "sky": "clear"}',
                }
            ],
        }
    else:
        model_turn, result = body["contents"][1], body["contents"][2]
        # The thought signature Gemini put on the call came back in reasoning_details and
        # returns on the call (the fake accepts only signatures it issued).
        [detail] = (first.choices[0].message.model_extra or {})["reasoning_details"]
        assert detail["format"] == "google-gemini-v1" and detail["signature"]
        assert model_turn == {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                    "thoughtSignature": detail["signature"],
                }
            ],
        }
        assert result["role"] == "user"
        assert result["parts"][0]["functionResponse"]["name"] == "get_weather"


def test_a_tool_choice_naming_an_unknown_function_is_400(stack: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as failure:
        client(stack).chat.completions.create(
            model="openai/gpt-4o-mini",
            messages=QUESTION,
            tools=[WEATHER],
            tool_choice={"type": "function", "function": {"name": "get_time"}},
        )
    assert failure.value.status_code == 400
    assert isinstance(failure.value.body, dict)
    assert failure.value.body["param"] == "tool_choice.function.name"


def test_the_sdks_stream_helper_assembles_the_calls(
    stack: Stack, provider: tuple[Provider, Upstream]
) -> None:
    """``client.chat.completions.stream`` accumulates the deltas itself: its final completion
    must hold the calls the provider made."""
    chosen, upstream = provider
    chosen.script_calls(upstream, CALLS)

    with client(stack).chat.completions.stream(
        model=chosen.model,
        messages=QUESTION,
        tools=[WEATHER],  # type: ignore[list-item]
    ) as stream:
        arguments_done = [
            event.arguments
            for event in stream
            if event.type == "tool_calls.function.arguments.done"
        ]
        final = stream.get_final_completion()

    calls = final.choices[0].message.tool_calls or []
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Rome"}),
    ]
    assert [json.loads(a) for a in arguments_done] == [{"city": "Paris"}, {"city": "Rome"}]
    assert final.choices[0].finish_reason == "tool_calls"
