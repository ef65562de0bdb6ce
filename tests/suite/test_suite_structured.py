"""Structured outputs through the whole suite with the official openai SDK, for each adapter:
``response_format`` ``json_schema`` (also via ``client.chat.completions.parse`` and a Pydantic
model), the legacy ``{type: "json", schema}`` and ``json_object`` reach each provider as its
native mechanism (OpenAI as is; Gemini ``responseMimeType`` + ``responseJsonSchema``; Anthropic
a forced tool whose input is the schema) and the answer comes back as the message text,
streamed or not."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from pydantic import BaseModel
from tollgate_cli.stack import Stack

from tests.support.api import client
from tests.support.catalog import ANTHROPIC_MODEL, GEMINI_MODEL
from tests.support.upstreams import Upstream

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "temp_c": {"type": "number"}},
    "required": ["city", "temp_c"],
    "additionalProperties": False,
}
ANSWER = {"city": "Paris", "temp_c": 21}
QUESTION = [{"role": "user", "content": "Weather in Paris as JSON"}]
JSON_SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "weather", "schema": SCHEMA, "strict": True},
}
MODELS = {
    "openai": ("openai/gpt-4o-mini", "fresh_upstream"),
    "anthropic": (ANTHROPIC_MODEL, "fresh_anthropic"),
    "google": (GEMINI_MODEL, "fresh_gemini"),
}


class Weather(BaseModel):
    city: str
    temp_c: float


@pytest.fixture(params=list(MODELS))
def provider(request: pytest.FixtureRequest) -> tuple[str, str, Upstream]:
    name: str = request.param
    model, fixture = MODELS[name]
    return name, model, request.getfixturevalue(fixture)


def script_answer(name: str, upstream: Upstream, tool: str) -> None:
    """The provider answers with ANSWER the way its API returns structured output."""
    if name == "anthropic":  # the forced tool's input is the answer
        upstream.script(reply="", tool_use={"name": tool, "input": ANSWER})
    else:
        upstream.script(reply=json.dumps(ANSWER))


def assert_native_mechanism(name: str, body: dict[str, Any], tool: str, schema: Any) -> None:
    if name == "openai":
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["name"] == tool
        assert body["response_format"]["json_schema"]["schema"] == schema
    elif name == "anthropic":
        assert body["tools"] == [
            {"name": tool, "input_schema": schema, "description": "The final answer."}
        ]
        assert body["tool_choice"] == {"type": "tool", "name": tool}
    else:
        assert body["generationConfig"]["responseMimeType"] == "application/json"
        assert body["generationConfig"]["responseJsonSchema"] == schema


@pytest.mark.parametrize("stream", [False, True])
def test_json_schema_answers_are_the_message_text(
    stack: Stack, provider: tuple[str, str, Upstream], stream: bool
) -> None:
    name, model, upstream = provider
    script_answer(name, upstream, "weather")

    api = client(stack)
    if stream:
        chunks = list(
            api.chat.completions.create(
                model=model,
                messages=QUESTION,
                response_format=JSON_SCHEMA_FORMAT,  # type: ignore[arg-type]
                stream=True,
            )
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
        assert not any(c.choices[0].delta.tool_calls for c in chunks if c.choices)
    else:
        completion = api.chat.completions.create(
            model=model,
            messages=QUESTION,
            response_format=JSON_SCHEMA_FORMAT,  # type: ignore[arg-type]
        )
        text = completion.choices[0].message.content or ""
        finish = completion.choices[0].finish_reason
        assert completion.choices[0].message.tool_calls is None

    assert json.loads(text) == ANSWER
    assert finish == "stop"
    [sent] = upstream.requests()
    assert_native_mechanism(name, sent["body"], "weather", SCHEMA)  # type: ignore[arg-type]


def test_the_sdks_parse_helper_gets_a_typed_answer(
    stack: Stack, provider: tuple[str, str, Upstream]
) -> None:
    name, model, upstream = provider
    script_answer(name, upstream, "Weather")

    completion = client(stack).chat.completions.parse(
        model=model, messages=QUESTION, response_format=Weather
    )

    assert completion.choices[0].message.parsed == Weather(city="Paris", temp_c=21)


def test_the_legacy_json_form_and_json_object(
    stack: Stack, provider: tuple[str, str, Upstream]
) -> None:
    name, model, upstream = provider
    api = client(stack)
    script_answer(name, upstream, "weather")
    legacy = {"type": "json", "schema": SCHEMA, "name": "weather", "description": "The weather"}
    completion = api.chat.completions.create(
        model=model, messages=QUESTION, extra_body={"response_format": legacy}
    )
    assert json.loads(completion.choices[0].message.content or "") == ANSWER
    body: Any = upstream.requests()[-1]["body"]
    if name == "openai":
        assert body["response_format"] == {
            "type": "json_schema",
            "json_schema": {"name": "weather", "description": "The weather", "schema": SCHEMA},
        }
    elif name == "anthropic":
        assert body["tools"][0]["description"] == "The weather"

    script_answer(name, upstream, "json_response")
    completion = api.chat.completions.create(
        model=model, messages=QUESTION, response_format={"type": "json_object"}
    )
    assert json.loads(completion.choices[0].message.content or "") == ANSWER
    body = upstream.requests()[-1]["body"]
    if name == "openai":
        assert body["response_format"] == {"type": "json_object"}
    elif name == "anthropic":
        assert body["tool_choice"] == {"type": "tool", "name": "json_response"}
    else:
        assert body["generationConfig"] == {"responseMimeType": "application/json"}


def test_a_malformed_response_format_is_400(stack: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as failure:
        client(stack).chat.completions.create(
            model="openai/gpt-4o-mini",
            messages=QUESTION,
            response_format={"type": "json_schema", "json_schema": {"schema": SCHEMA}},  # type: ignore[typeddict-item]
        )
    assert isinstance(failure.value.body, dict)
    assert failure.value.body["param"] == "response_format.json_schema.name"
