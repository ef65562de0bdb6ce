"""Hard caps: pre-flight holds the output the upstream request would really allow (thinking
budgets, ``providerOptions`` limits and ``n`` included), and the body each adapter then sends
allows no more than was held, also when billing could only afford fewer tokens; options that
would cost more than can be held are a 400 naming them; the prompt estimate counts tools and
schemas."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from tollgate.billing.v1 import billing_pb2
from tollgate_common.errors import InvalidArgument
from tollgate_common.money import format_usd
from tollgate_router.catalog.catalog import build_catalog
from tollgate_router.credentials.system import SystemCredential
from tollgate_router.credit.estimates import estimate_prompt_tokens
from tollgate_router.credit.preflight import BillingPreflight, InsufficientFunds, worst_case
from tollgate_router.domain import (
    Caller,
    FunctionTool,
    GenerationParams,
    GenerationRequest,
    Message,
    Reasoning,
    ResponseFormat,
    ToolOptions,
)
from tollgate_router.generation.relay import Generation
from tollgate_router.providers import UpstreamCall, anthropic_wire, gemini_wire, openai_wire
from tollgate_router.providers.output_limits import allowed_output, share
from tollgate_router.providers.provider_options import body_fields
from tollgate_router.routing.planning import Candidate, Plan

PRICE = {"input": "0.000001", "output": "0.00001"}
CATALOG = build_catalog(
    {
        "version": "v",
        "models": [
            {
                "id": "acme/claude",
                "max_output_tokens": 64000,
                "providers": [{"provider": "anthropic", "pricing": PRICE}],
            },
            {
                "id": "acme/gemini",
                "max_output_tokens": 65536,
                "providers": [{"provider": "google", "pricing": PRICE}],
            },
            {
                "id": "acme/gpt",
                "max_output_tokens": 16384,
                "providers": [
                    {"provider": "openai", "pricing": PRICE},
                    {"provider": "groq", "pricing": PRICE},
                ],
            },
        ],
    }
)
BUILD = {
    "anthropic": anthropic_wire.request_body,
    "google": gemini_wire.request_body,
    "openai": openai_wire.request_body,
    "groq": openai_wire.request_body,
}
WIRE = {
    "anthropic": "anthropic-messages",
    "google": "google-gemini",
    "openai": "openai-chat",
    "groq": "openai-chat",
}


class Billing:
    """Holds the worst case, or only ``afford`` output tokens of it when set."""

    def __init__(self, afford: int = 0) -> None:
        self.afford = afford
        self.reserved: list[billing_pb2.ReserveRequest] = []
        self.released: list[str] = []

    async def Reserve(self, request: billing_pb2.ReserveRequest, **_: Any) -> Any:
        self.reserved.append(billing_pb2.ReserveRequest.FromString(request.SerializeToString()))
        asked = request.max_output_tokens or request.model_max_output_tokens
        if self.afford and self.afford < asked:
            request.max_output_tokens = self.afford
            held = worst_case(request)
            return billing_pb2.ReserveResponse(
                reserved=format_usd(held), max_output_tokens=self.afford, available="0"
            )
        return billing_pb2.ReserveResponse(reserved=format_usd(worst_case(request)), available="9")

    async def Release(self, request: billing_pb2.ReleaseRequest, **_: Any) -> Any:
        self.released.append(request.hold_id)
        return billing_pb2.ReleaseResponse()


def _generation(
    model_id: str,
    params: GenerationParams,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    only: str = "",
) -> Generation:
    model = CATALOG.resolve(model_id)
    assert model is not None
    candidates = tuple(
        Candidate(model, offer, SystemCredential("x", "http://x", "k"), adapter=None)  # type: ignore[arg-type]
        for offer in model.providers
        if not only or offer.provider == only
    )
    request = GenerationRequest(
        model=model_id,
        messages=(Message("user", "hi"),),
        params=params,
        caller=Caller(team_id="team_a"),
        provider_options=options or {},
    )
    return Generation(request, Plan(candidates, ()), [], time.monotonic(), datetime.now(UTC), "v")


async def _sent(generation: Generation, billing: Billing) -> dict[str, Any]:
    """Reserve ``generation``, then the body its (only) candidate's adapter would send."""
    await BillingPreflight(billing, deadline_seconds=1, outage="closed").reserve(generation)  # type: ignore[arg-type]
    [candidate] = generation.plan.candidates
    provider = candidate.offer.provider
    request = generation.request
    call = UpstreamCall(
        "http://x",
        "k",
        candidate.offer.provider_model_id,
        request.messages,
        request.params,
        False,
        max_output_tokens=candidate.model.max_output_tokens,
        provider_options=body_fields(provider, "", request.provider_options.get(provider, {})),
    )
    body = BUILD[provider](call)
    output = allowed_output(body, WIRE[provider], candidate.model.max_output_tokens)
    assert output.tokens <= (request.params.output_cap or 0), "the body allows more than held"
    return body


THINK_HARD = GenerationParams(max_tokens=100, reasoning=Reasoning(max_tokens=32000))


async def test_anthropic_thinking_is_held_at_the_limit_it_raises_to() -> None:
    billing = Billing()
    body = await _sent(_generation("acme/claude", THINK_HARD), billing)
    [reserved] = billing.reserved
    assert reserved.max_output_tokens == 32100  # not the 100 the caller wrote
    assert body["max_tokens"] == 32100
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 32000}


async def test_anthropic_thinking_shrinks_to_what_billing_can_afford() -> None:
    body = await _sent(_generation("acme/claude", THINK_HARD), Billing(afford=3000))
    assert body["max_tokens"] == 3000
    assert body["thinking"]["budget_tokens"] == 2900  # the answer keeps its 100


async def test_anthropic_thinking_is_left_out_when_no_1024_tokens_fit() -> None:
    body = await _sent(_generation("acme/claude", THINK_HARD), Billing(afford=1000))
    assert body["max_tokens"] == 1000
    assert "thinking" not in body


async def test_anthropic_provider_options_thinking_is_held_and_capped() -> None:
    options = {"anthropic": {"thinking": {"type": "enabled", "budgetTokens": 20000}}}
    billing = Billing()
    generation = _generation("acme/claude", GenerationParams(max_tokens=50), options)
    body = await _sent(generation, billing)
    assert billing.reserved[0].max_output_tokens == 20050
    assert (body["max_tokens"], body["thinking"]["budget_tokens"]) == (20050, 20000)

    generation = _generation("acme/claude", GenerationParams(max_tokens=50), options)
    body = await _sent(generation, Billing(afford=5000))
    assert (body["max_tokens"], body["thinking"]["budget_tokens"]) == (5000, 4950)


async def test_gemini_thinking_budget_is_held_on_top_of_the_output_limit() -> None:
    params = GenerationParams(max_tokens=200, reasoning=Reasoning(max_tokens=10000))
    billing = Billing()
    body = await _sent(_generation("acme/gemini", params), billing)
    assert billing.reserved[0].max_output_tokens == 10200
    config = body["generationConfig"]
    assert (config["maxOutputTokens"], config["thinkingConfig"]["thinkingBudget"]) == (200, 10000)

    options = {"google": {"thinkingConfig": {"thinkingBudget": 24000}}}
    body = await _sent(_generation("acme/gemini", params, options), Billing(afford=4000))
    config = body["generationConfig"]
    assert (config["maxOutputTokens"], config["thinkingConfig"]["thinkingBudget"]) == (200, 3800)


async def test_a_limit_raised_in_provider_options_is_held_and_honoured() -> None:
    options = {"openai": {"maxCompletionTokens": 9000}}
    billing = Billing()
    generation = _generation("acme/gpt", GenerationParams(max_tokens=10), options, only="openai")
    body = await _sent(generation, billing)
    assert billing.reserved[0].max_output_tokens == 9000
    assert body["max_completion_tokens"] == 9000

    generation = _generation("acme/gpt", GenerationParams(max_tokens=10), options, only="openai")
    body = await _sent(generation, Billing(afford=500))
    assert (body["max_tokens"], body["max_completion_tokens"]) == (10, 500)


async def test_n_choices_are_held_as_such_and_share_the_cap() -> None:
    options = {"groq": {"n": 4, "max_tokens": 1000}}
    billing = Billing()
    generation = _generation("acme/gpt", GenerationParams(), options, only="groq")
    body = await _sent(generation, billing)
    assert billing.reserved[0].max_output_tokens == 4000
    assert (body["n"], body["max_tokens"]) == (4, 1000)

    generation = _generation("acme/gpt", GenerationParams(), options, only="groq")
    body = await _sent(generation, Billing(afford=1000))
    assert (body["n"], body["max_tokens"]) == (4, 250)


async def test_a_request_with_no_limit_gets_one_when_billing_affords_less() -> None:
    generation = _generation("acme/gpt", GenerationParams(), only="openai")
    body = await _sent(generation, Billing(afford=300))
    assert body["max_tokens"] == 300


async def test_fewer_tokens_than_choices_is_a_402_before_any_provider() -> None:
    billing = Billing(afford=3)
    generation = _generation("acme/gpt", GenerationParams(), {"groq": {"n": 5}}, only="groq")
    with pytest.raises(InsufficientFunds):
        await BillingPreflight(billing, deadline_seconds=1, outage="closed").reserve(generation)  # type: ignore[arg-type]
    assert generation.request.params.output_cap is None  # never capped: never sent


@pytest.mark.parametrize(
    ("provider", "options", "param"),
    [
        ("openai", {"serviceTier": "priority"}, "providerOptions.openai.serviceTier"),
        ("groq", {"service_tier": "performance"}, "providerOptions.groq.service_tier"),
        ("groq", {"n": 2.5}, "providerOptions.groq.n"),
        ("groq", {"max_tokens": "lots"}, "providerOptions.groq.max_tokens"),
        ("openai", {"maxCompletionTokens": -1}, "providerOptions.openai.maxCompletionTokens"),
        ("groq", {"search_parameters": {"mode": "on"}}, "providerOptions.groq.search_parameters"),
    ],
)
async def test_options_that_cost_more_than_can_be_held_are_a_400(
    provider: str, options: dict[str, Any], param: str
) -> None:
    billing = Billing()
    generation = _generation("acme/gpt", GenerationParams(), {provider: options}, only=provider)
    with pytest.raises(InvalidArgument) as raised:
        await BillingPreflight(billing, deadline_seconds=1, outage="closed").reserve(generation)  # type: ignore[arg-type]
    assert raised.value.metadata["param"] == param
    assert param in str(raised.value)
    assert billing.reserved == []  # nothing held, nothing sent


async def test_a_flex_service_tier_is_at_most_list_price_and_passes() -> None:
    options = {"openai": {"serviceTier": "flex"}}
    generation = _generation("acme/gpt", GenerationParams(), options, only="openai")
    body = await _sent(generation, Billing())
    assert body["service_tier"] == "flex"


def test_the_prompt_estimate_counts_tools_and_schemas() -> None:
    messages = (Message("user", "hi"),)
    bare = estimate_prompt_tokens(messages)
    schema = {"type": "object", "properties": {"x": {"type": "string", "description": "y" * 400}}}
    tool = FunctionTool("lookup", "Looks things up. " * 20, schema)
    with_tool = estimate_prompt_tokens(messages, GenerationParams(tools=ToolOptions(tools=(tool,))))
    assert with_tool - bare >= (len("Looks things up. " * 20) + 400) // 2
    fmt = ResponseFormat("json_schema", name="answer", schema=schema)
    with_format = estimate_prompt_tokens(messages, GenerationParams(response_format=fmt))
    assert with_format - bare >= 400 // 2
    with_options = estimate_prompt_tokens(
        messages, None, {"openai": {"prediction": {"type": "content", "content": "z" * 600}}}
    )
    assert with_options - bare >= 600 // 2


async def test_a_gemini_request_within_the_cap_is_sent_as_built() -> None:
    body = await _sent(_generation("acme/gemini", GenerationParams()), Billing())
    assert "generationConfig" not in body  # nothing to cap: the model's max is held


def test_answer_and_thinking_share_a_cap() -> None:
    assert share(3000, 100, 32000) == (100, 2900)  # the small answer keeps its tokens
    assert share(3000, 64000, 1024) == (1976, 1024)  # the small budget keeps its tokens
    assert share(3000, 5000, 5000) == (1500, 1500)
