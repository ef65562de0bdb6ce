"""Hard caps through Envoy with the openai SDK: the output limit a provider receives never
exceeds what billing held, whatever raises it (Anthropic and Gemini thinking budgets, limits and
``n`` in ``providerOptions``, on the OpenAI and the AI SDK endpoints), so a key with a $0.05 daily budget cannot spend past it however the
request is written; a limit raised in ``providerOptions`` that the money covers is held and
sent as asked; a service tier priced above list price is a 400 naming the option.

The fakes produce as many output tokens as the body they receive allows (a long scripted reply
cut at its limit), so what a request is charged follows the limit it was sent with.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openai
import pytest
from tollgate_cli.stack import Stack

from tests.suite.test_suite_aisdk_protocol import call as aisdk_call
from tests.support.admin import AdminSuite, Api, Secrets, new_tenant
from tests.support.billing import billing_suite
from tests.support.catalog import ANTHROPIC_MODEL, ANTHROPIC_PRICE, GEMINI_MODEL, GEMINI_PRICE
from tests.support.polling import eventually
from tests.support.upstreams import UPSTREAM_KEY, Upstream

D = Decimal
BUDGET = D("0.05")
GPT_OUTPUT_PRICE = D("0.00001")  # openai/gpt-4o in the shipped catalog
LONG_REPLY = " ".join(["word"] * 8000)
# An OpenAI-compatible provider (served by the OpenAI fake): its options reach the body as given.
COMPAT_MODEL = "test/compat"
COMPAT_CATALOG = {
    "models": [
        {
            "id": COMPAT_MODEL,
            "name": "An OpenAI-compatible model (test)",
            "creator": "test",
            "type": "language",
            "description": "Served by groq's wire protocol, so `n` may come in providerOptions.",
            "context_window": 100000,
            "max_output_tokens": 16000,
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "released": "2026-01-01",
            "providers": [
                {
                    "provider": "groq",
                    "provider_model_id": "gpt-4o",
                    "pricing": {"input": "0.000001", "output": str(GPT_OUTPUT_PRICE)},
                }
            ],
        }
    ]
}


def _budgeted(stack: Stack) -> tuple[openai.OpenAI, Api]:
    """A client whose key (in a team of its own) may spend $0.05 a day."""
    owner = new_tenant(AdminSuite(stack, "sqlite", Secrets()), "caps")
    key_id = owner.key_ids["owner"]
    owner.owner.ok(
        "PUT", f"/v1/budgets/key/{key_id}", 201, json={"amount": str(BUDGET), "period": "day"}
    )
    client = openai.OpenAI(base_url=stack.base_url, api_key=owner.owner.key, max_retries=0)
    return client, owner.owner


def _sent(fake: Upstream) -> dict[str, Any]:
    [request] = fake.requests()
    body: dict[str, Any] = request["body"]  # type: ignore[assignment]
    return body


def _charged(api: Api, completion: Any) -> Decimal:
    generation_id = completion if isinstance(completion, str) else completion.id

    def record() -> dict[str, Any] | None:
        reply = api.call("GET", "/v1/generation", params={"id": generation_id})
        return reply.json()["data"] if reply.status_code == 200 else None

    return D(str(eventually(record)["total_cost"]))


def _affordable(output_price: str | Decimal) -> int:
    return int(BUDGET / D(output_price))


def test_anthropic_reasoning_is_capped_by_a_tiny_key_budget(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    client, api = _budgeted(stack)
    fresh_anthropic.script(reply=LONG_REPLY)
    completion = client.chat.completions.create(
        model=ANTHROPIC_MODEL,
        messages=[{"role": "user", "content": "think hard"}],
        max_tokens=100,
        extra_body={"reasoning": {"max_tokens": 32000}},
    )

    body = _sent(fresh_anthropic)
    affordable = _affordable(ANTHROPIC_PRICE["output"])  # 3,333 tokens
    assert 3000 < body["max_tokens"] <= affordable  # not 32,100
    # It still thinks, within the limit, and the answer keeps the 100 tokens asked for.
    assert body["thinking"]["budget_tokens"] == body["max_tokens"] - 100
    assert _charged(api, completion) <= BUDGET


def test_thinking_raised_in_provider_options_cannot_spend_past_the_budget(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    client, api = _budgeted(stack)
    fresh_anthropic.script(reply=LONG_REPLY)
    completion = client.chat.completions.create(
        model=ANTHROPIC_MODEL,
        messages=[{"role": "user", "content": "think hard"}],
        max_tokens=10,
        extra_body={
            "providerOptions": {
                "anthropic": {"thinking": {"type": "enabled", "budgetTokens": 30000}}
            }
        },
    )

    body = _sent(fresh_anthropic)
    assert body["max_tokens"] <= _affordable(ANTHROPIC_PRICE["output"])
    assert 1024 <= body["thinking"]["budget_tokens"] < body["max_tokens"]
    assert _charged(api, completion) <= BUDGET


def test_ai_sdk_thinking_options_cannot_spend_past_the_budget(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    _, api = _budgeted(stack)
    fresh_anthropic.script(reply=LONG_REPLY)
    thinking = {"type": "enabled", "budgetTokens": 30000}
    reply = aisdk_call(
        stack,
        {
            "prompt": [{"role": "user", "content": [{"type": "text", "text": "think hard"}]}],
            "maxOutputTokens": 10,
            "providerOptions": {"anthropic": {"thinking": thinking}},
        },
        model=ANTHROPIC_MODEL,
        key=api.key,
    )

    assert reply.status_code == 200, reply.text
    body = _sent(fresh_anthropic)
    assert body["max_tokens"] <= _affordable(ANTHROPIC_PRICE["output"])  # not 30,010
    assert 1024 <= body["thinking"]["budget_tokens"] < body["max_tokens"]
    generation_id = reply.json()["providerMetadata"]["gateway"]["generationId"]
    assert _charged(api, generation_id) <= BUDGET


def test_a_limit_raised_in_provider_options_cannot_spend_past_the_budget(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    client, api = _budgeted(stack)
    fresh_upstream.script(reply=LONG_REPLY)
    completion = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "go on"}],
        max_tokens=10,
        extra_body={"providerOptions": {"openai": {"maxCompletionTokens": 16000}}},
    )

    body = _sent(fresh_upstream)
    assert body["max_completion_tokens"] <= _affordable(GPT_OUTPUT_PRICE)  # not 16,000
    assert body["max_tokens"] == 10
    assert completion.usage is not None and completion.usage.completion_tokens > 10
    assert _charged(api, completion) <= BUDGET


def test_gemini_thinking_and_output_together_stay_within_the_budget(
    stack: Stack, fresh_gemini: Upstream
) -> None:
    client, api = _budgeted(stack)
    fresh_gemini.script(reply=LONG_REPLY)
    completion = client.chat.completions.create(
        model=GEMINI_MODEL,
        messages=[{"role": "user", "content": "think hard"}],
        max_tokens=100,
        extra_body={"providerOptions": {"google": {"thinkingConfig": {"thinkingBudget": 30000}}}},
    )

    config = _sent(fresh_gemini)["generationConfig"]
    affordable = _affordable(GEMINI_PRICE["output"])  # 20,000 tokens
    assert config["maxOutputTokens"] == 100
    assert 0 < config["thinkingConfig"]["thinkingBudget"] <= affordable - 100  # not 30,000
    assert _charged(api, completion) <= BUDGET


def test_a_limit_raised_in_provider_options_is_held_and_honoured(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    client = openai.OpenAI(base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0)
    fresh_upstream.script(reply=LONG_REPLY)
    completion = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "go on"}],
        max_tokens=10,
        extra_body={"providerOptions": {"openai": {"maxCompletionTokens": 9000}}},
    )

    assert _sent(fresh_upstream)["max_completion_tokens"] == 9000
    assert completion.usage is not None and completion.usage.completion_tokens == 8000


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"serviceTier": "priority"}, "providerOptions.openai.serviceTier"),
        ({"maxCompletionTokens": "all of them"}, "providerOptions.openai.maxCompletionTokens"),
    ],
)
def test_options_that_cost_more_than_can_be_held_are_a_400(
    stack: Stack, fresh_upstream: Upstream, options: dict[str, Any], param: str
) -> None:
    client = openai.OpenAI(base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0)
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": "fast please"}],
            extra_body={"providerOptions": {"openai": options}},
        )
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["param"] == param
    assert param in raised.value.body["message"]
    assert fresh_upstream.requests() == []


@pytest.fixture
def compat(upstream: Upstream, tmp_path: Path) -> Iterator[Stack]:
    env = {
        "TOLLGATE_PROVIDER_GROQ_BASE_URL": f"{upstream.url}/v1",
        "TOLLGATE_PROVIDER_GROQ_API_KEY": UPSTREAM_KEY,
    }
    with billing_suite(upstream, tmp_path, COMPAT_CATALOG, env) as running:
        yield running


def test_n_choices_in_provider_options_share_what_the_budget_holds(
    compat: Stack, upstream: Upstream
) -> None:
    client, api = _budgeted(compat)
    upstream.script(reply=LONG_REPLY)
    completion = client.chat.completions.create(
        model=COMPAT_MODEL,
        messages=[{"role": "user", "content": "four times"}],
        extra_body={"providerOptions": {"groq": {"n": 4, "max_tokens": 2000}}},
    )

    body = _sent(upstream)
    assert body["n"] == 4
    assert 4 * body["max_tokens"] <= _affordable(GPT_OUTPUT_PRICE)  # not 4 x 2,000
    assert _charged(api, completion) <= BUDGET
