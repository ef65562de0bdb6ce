"""The Vercel routing options in the plan: `sort` (cost at the request's size, observed time to
first byte, observed output speed; unknown last), `has`, `zeroDataRetention`,
`disallowPromptTraining` (filters, a clear error when nothing qualifies) and `providerTimeouts`
(per provider and credential type, failing over when the first byte is late)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tollgate_common.errors import InvalidArgument
from tollgate_router.catalog.catalog import CatalogError, ModelInfo, build_catalog
from tollgate_router.credentials.system import load_system_credentials
from tollgate_router.domain import Attempt, ByokKey, RoutingOptions
from tollgate_router.providers import Adapters
from tollgate_router.routing.failover import Served, run_candidates
from tollgate_router.routing.planning import Candidate, check_requirements, ordered_offers, plan
from tollgate_router.routing.provider_stats import ProviderStats

CATALOG = build_catalog(
    {
        "version": "v",
        "models": [
            {
                "id": "acme/m",
                "tags": ["tool-use", "vision"],
                "providers": [
                    # Cheap input, dear output.
                    {
                        "provider": "openai",
                        "pricing": {"input": "0.000001", "output": "0.00001"},
                        "no_prompt_training": True,
                    },
                    # Dear input, cheap output.
                    {
                        "provider": "groq",
                        "pricing": {"input": "0.000003", "output": "0.000003"},
                        "zero_data_retention": True,
                        "no_prompt_training": True,
                    },
                    {"provider": "xai", "pricing": {"input": "0.000005", "output": "0.00002"}},
                ],
            },
            {
                "id": "acme/thinker",
                "tags": ["reasoning", "tool-use"],
                "providers": [
                    {"provider": "xai", "pricing": {"input": "0.000001", "output": "0.000001"}}
                ],
            },
        ],
    }
)
ENV = {"OPENAI_API_KEY": "a", "GROQ_API_KEY": "b", "XAI_API_KEY": "c"}


class _Adapter:
    async def open(self, call: Any) -> Any:
        raise NotImplementedError


def model(name: str = "acme/m") -> ModelInfo:
    found = CATALOG.resolve(name)
    assert found is not None
    return found


def order(stats: ProviderStats | None = None, **options: Any) -> list[str]:
    return [o.provider for o in ordered_offers(model(), RoutingOptions(**options), stats)]


def planned(models: list[ModelInfo], options: RoutingOptions) -> Any:
    credentials = load_system_credentials(CATALOG.providers(), ENV)
    return plan(models, options, credentials, Adapters(openai_chat=_Adapter()), ProviderStats())


def test_sort_by_cost_prices_the_request_at_its_size() -> None:
    long_prompt = order(sort="cost", input_tokens=10_000, output_tokens=10)
    long_answer = order(sort="cost", input_tokens=10, output_tokens=10_000)

    assert long_prompt == ["openai", "groq", "xai"]
    assert long_answer == ["groq", "openai", "xai"]


def test_sort_by_cost_comes_after_order() -> None:
    assert order(sort="cost", order=("xai",), input_tokens=10, output_tokens=10_000) == [
        "xai",
        "groq",
        "openai",
    ]


def test_sort_by_ttft_puts_the_fastest_observed_first_and_the_unknown_last() -> None:
    stats = ProviderStats()
    stats.record_success("groq", "m", 0.9)
    stats.record_success("xai", "m", 0.2)

    assert order(stats, sort="ttft") == ["xai", "groq", "openai"]


def test_sort_by_tps_puts_the_fastest_output_first_and_the_unknown_last() -> None:
    stats = ProviderStats()
    for provider in ("openai", "groq", "xai"):
        stats.record_success(provider, "m", 0.1)
    stats.record_output("openai", "m", 100, 2.0)  # 50 tokens/s
    stats.record_output("groq", "m", 100, 0.5)  # 200 tokens/s

    assert order(stats, sort="tps") == ["groq", "openai", "xai"]


def test_has_keeps_the_models_with_the_tags_and_skips_the_others() -> None:
    options = RoutingOptions(has=("reasoning",))

    check_requirements([model(), model("acme/thinker")], options)
    result = planned([model(), model("acme/thinker")], options)

    assert [(c.model.id, c.offer.provider) for c in result.candidates] == [("acme/thinker", "xai")]
    assert {a.provider for a in result.skipped} == {"openai", "groq", "xai"}
    assert all("has reasoning" in a.error_message for a in result.skipped)
    assert "models with reasoning" in result.reasoning


def test_has_negation_and_no_match_is_a_clear_error() -> None:
    check_requirements([model()], RoutingOptions(has=("!reasoning", "vision")))

    with pytest.raises(InvalidArgument) as caught:
        check_requirements([model()], RoutingOptions(has=("reasoning",)))
    assert caught.value.metadata == {"param": "providerOptions.gateway.has"}
    assert "acme/m" in str(caught.value)
    with pytest.raises(InvalidArgument):
        check_requirements([model()], RoutingOptions(has=("telepathy",)))


def test_zero_data_retention_and_no_training_keep_the_qualifying_providers() -> None:
    zdr = planned([model()], RoutingOptions(zero_data_retention=True))
    no_training = planned([model()], RoutingOptions(disallow_prompt_training=True))

    assert [c.offer.provider for c in zdr.candidates] == ["groq"]
    assert {a.provider for a in zdr.skipped} == {"openai", "xai"}
    assert {c.offer.provider for c in no_training.candidates} == {"openai", "groq"}


def test_zero_data_retention_with_no_qualifying_provider_is_a_clear_error() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_requirements([model()], RoutingOptions(zero_data_retention=True, only=("xai",)))
    assert caught.value.metadata == {"param": "providerOptions.gateway.zeroDataRetention"}


def test_provider_timeouts_apply_per_credential_type() -> None:
    options = RoutingOptions(
        only=("openai",),
        byok=(ByokKey("openai", "sk-own"),),
        byok_timeouts={"openai": 0.5},
        system_timeouts={"openai": 2.0},
    )

    result = planned([model()], options)

    assert [(c.credential_type, c.first_byte_timeout) for c in result.candidates] == [
        ("byok", 0.5),
        ("system", 2.0),
    ]


async def test_a_provider_timeout_fails_over_with_a_timeout_reason() -> None:
    options = RoutingOptions(order=("openai", "groq"), system_timeouts={"openai": 0.05})
    candidates = planned([model()], options).candidates
    attempts: list[Attempt] = []

    async def attempt(candidate: Candidate) -> str:
        if candidate.offer.provider == "openai":
            await asyncio.sleep(10)
        return candidate.offer.provider

    run = await run_candidates(candidates, attempt, attempts=attempts, seconds=lambda c: 30.0)

    assert isinstance(run, Served) and run.result == "groq"
    [late] = attempts
    assert (late.provider, late.success) == ("openai", False)
    assert "providerTimeouts (50 ms)" in late.error_message


def test_the_catalog_data_policy_flags_are_booleans() -> None:
    offer = {"provider": "openai", "pricing": {"input": "0.000001", "output": "0.000001"}}
    with pytest.raises(CatalogError, match="zero_data_retention"):
        build_catalog(
            {"models": [{"id": "acme/x", "providers": [{**offer, "zero_data_retention": "yes"}]}]}
        )
    shipped = build_catalog({"models": [{"id": "acme/x", "providers": [offer]}]})
    found = shipped.resolve("acme/x")
    assert found is not None
    assert not found.providers[0].zero_data_retention
    assert not found.providers[0].no_prompt_training
