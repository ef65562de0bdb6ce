"""`providerOptions.<provider>` through Envoy with the OpenAI SDK: the AI SDK's option names reach
the serving provider's request body as that provider's wire fields, options for other providers
do not, and they never replace what defines the request."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.catalog import ANTHROPIC_MODEL, GEMINI_MODEL
from tests.support.upstreams import Upstream


def _client(stack: Stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0)


def _sent(fake: Upstream) -> dict[str, Any]:
    [request] = fake.requests()
    body: dict[str, Any] = request["body"]  # type: ignore[assignment]
    return body


def test_openai_options_reach_openai_as_wire_fields(stack: Stack, fresh_upstream: Upstream) -> None:
    completion = _client(stack).chat.completions.create(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "options"}],
        extra_body={
            "providerOptions": {
                "openai": {
                    "serviceTier": "flex",
                    "logitBias": {"50256": -100},
                    "logprobs": 2,
                    "store": False,
                    "model": "not-this-one",
                },
                "anthropic": {"thinking": {"type": "enabled", "budgetTokens": 2048}},
            }
        },
    )

    assert completion.choices[0].message.content == "Echo: options"
    body = _sent(fresh_upstream)
    assert body["service_tier"] == "flex"
    assert body["logit_bias"] == {"50256": -100}
    assert (body["logprobs"], body["top_logprobs"]) == (True, 2)
    assert body["store"] is False
    assert body["model"] == "gpt-4o"  # the request's own model stays
    assert "thinking" not in body  # another provider's options stay with it


def test_anthropic_thinking_reaches_anthropic(stack: Stack, fresh_anthropic: Upstream) -> None:
    _client(stack).chat.completions.create(
        model=ANTHROPIC_MODEL,
        messages=[{"role": "user", "content": "think"}],
        max_tokens=100,
        temperature=0.5,
        extra_body={
            "providerOptions": {
                "anthropic": {"thinking": {"type": "enabled", "budgetTokens": 2048}}
            }
        },
    )

    body = _sent(fresh_anthropic)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] == 2148  # the answer keeps its 100 tokens beside the budget
    assert "temperature" not in body  # Anthropic takes no temperature with thinking


def test_google_options_reach_gemini(stack: Stack, fresh_gemini: Upstream) -> None:
    settings = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
    _client(stack).chat.completions.create(
        model=GEMINI_MODEL,
        messages=[{"role": "user", "content": "think"}],
        max_tokens=50,
        extra_body={
            "providerOptions": {
                "google": {
                    "thinkingConfig": {"thinkingBudget": 0},
                    "safetySettings": settings,
                }
            }
        },
    )

    body = _sent(fresh_gemini)
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 0}
    assert body["generationConfig"]["maxOutputTokens"] == 50  # merged, not replaced
    assert body["safetySettings"] == settings


def test_options_that_are_not_objects_are_a_400(stack: Stack, fresh_upstream: Upstream) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        _client(stack).chat.completions.create(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": "options"}],
            extra_body={"providerOptions": {"openai": "fast please"}},
        )
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["param"] == "providerOptions.openai"
    assert fresh_upstream.requests() == []
