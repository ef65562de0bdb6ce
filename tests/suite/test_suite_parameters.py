"""Sampling parameters through the whole suite with the official openai SDK: out-of-range or
mistyped values are a 400 in the OpenAI envelope naming the param (no provider is called), and
valid ones reach each provider under its own names."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.api import client
from tests.support.catalog import ANTHROPIC_MODEL, GEMINI_MODEL
from tests.support.upstreams import Upstream

QUESTION = [{"role": "user", "content": "Say something"}]
PARAMS: dict[str, Any] = {
    "temperature": 0.5,
    "top_p": 0.9,
    "frequency_penalty": 0.5,
    "presence_penalty": -0.5,
    "max_tokens": 100,
    "stop": ["END", "STOP"],
    "seed": 42,
    "user": "end-user-7",
}


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("temperature", 2.1),
        ("temperature", -0.1),
        ("top_p", 1.5),
        ("frequency_penalty", -2.5),
        ("presence_penalty", 2.5),
        ("max_tokens", 0),
        ("max_completion_tokens", -5),
        ("stop", ["a", "b", "c", "d", "e"]),
        ("stop", 7),
        ("seed", 1.5),
    ],
)
def test_out_of_range_parameters_are_400_naming_the_param(
    stack: Stack, fresh_upstream: Upstream, param: str, value: Any
) -> None:
    with pytest.raises(openai.BadRequestError) as failure:
        client(stack).chat.completions.create(
            model="openai/gpt-4o-mini", messages=QUESTION, extra_body={param: value}
        )

    body = failure.value.body
    assert isinstance(body, dict)
    assert (body["type"], body["param"]) == ("invalid_request_error", param)
    assert fresh_upstream.requests() == []


def test_parameters_reach_openai_as_sent(stack: Stack, fresh_upstream: Upstream) -> None:
    client(stack).chat.completions.create(model="openai/gpt-4o-mini", messages=QUESTION, **PARAMS)
    body: Any = fresh_upstream.requests()[0]["body"]
    assert {key: body[key] for key in PARAMS} == PARAMS


def test_parameters_reach_anthropic_under_its_names(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    client(stack).chat.completions.create(model=ANTHROPIC_MODEL, messages=QUESTION, **PARAMS)
    body: Any = fresh_anthropic.requests()[0]["body"]
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.5, 0.9, 100)
    assert body["stop_sequences"] == ["END", "STOP"]
    assert body["metadata"] == {"user_id": "end-user-7"}
    # The Messages API has no seed or penalties.
    assert not {"seed", "frequency_penalty", "presence_penalty"} & set(body)


def test_parameters_reach_gemini_under_its_names(stack: Stack, fresh_gemini: Upstream) -> None:
    client(stack).chat.completions.create(model=GEMINI_MODEL, messages=QUESTION, **PARAMS)
    body: Any = fresh_gemini.requests()[0]["body"]
    assert body["generationConfig"] == {
        "temperature": 0.5,
        "topP": 0.9,
        "seed": 42,
        "presencePenalty": -0.5,
        "frequencyPenalty": 0.5,
        "maxOutputTokens": 100,
        "stopSequences": ["END", "STOP"],
    }
