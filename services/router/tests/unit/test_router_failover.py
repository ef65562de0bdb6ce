"""The failover engine on its own: candidates tried in order with any kind of attempt, the next
one only after a failure worth a retry, each failure recorded and counted against the provider's
health (unless it was the caller's mistake), a timeout per candidate."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tollgate_router.catalog.catalog import build_catalog
from tollgate_router.credentials.system import load_system_credentials
from tollgate_router.domain import Attempt, RoutingOptions
from tollgate_router.providers import Adapters, ProviderError
from tollgate_router.routing.failover import Served, Unserved, Watch, run_candidates
from tollgate_router.routing.planning import Candidate, plan
from tollgate_router.routing.provider_stats import ProviderStats

CATALOG = build_catalog(
    {
        "version": "v",
        "models": [
            {
                "id": "acme/m",
                "providers": [
                    {"provider": p, "pricing": {"input": "0.000001", "output": "0.000002"}}
                    for p in ("openai", "groq", "xai")
                ],
            }
        ],
    }
)
ENV = {"OPENAI_API_KEY": "a", "GROQ_API_KEY": "b", "XAI_API_KEY": "c"}


class _Adapter:
    async def open(self, call: Any) -> Any:
        raise NotImplementedError


def _candidates() -> tuple[Candidate, ...]:
    model = CATALOG.resolve("acme/m")
    assert model is not None
    credentials = load_system_credentials(CATALOG.providers(), ENV)
    order = RoutingOptions(order=("openai", "groq", "xai"))
    return plan([model], order, credentials, Adapters(openai_chat=_Adapter())).candidates


class Script:
    """An attempt answering per provider: an exception to raise, or a value to return."""

    def __init__(self, **outcomes: BaseException | str) -> None:
        self.outcomes = outcomes
        self.tried: list[str] = []

    async def __call__(self, candidate: Candidate) -> str:
        provider = candidate.offer.provider
        self.tried.append(provider)
        outcome = self.outcomes.get(provider, f"answer of {provider}")
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome == "hang":
            await asyncio.sleep(10)
        return outcome


async def test_the_next_candidate_after_a_failure_worth_a_retry() -> None:
    script = Script(openai=ProviderError(503, "overloaded"), groq=ProviderError(0, "cut"))
    attempts: list[Attempt] = []
    stats = ProviderStats()

    run = await run_candidates(_candidates(), script, attempts=attempts, watch=Watch(stats=stats))

    assert isinstance(run, Served)
    assert (run.candidate.offer.provider, run.result) == ("xai", "answer of xai")
    assert script.tried == ["openai", "groq", "xai"]
    assert [(a.provider, a.success, a.status_code) for a in attempts] == [
        ("openai", False, 503),
        ("groq", False, 0),
    ]
    assert attempts[0].error_message == "HTTP 503: overloaded"
    model_id = run.candidate.offer.provider_model_id
    assert stats.health("openai", model_id).success_rate < 1
    assert stats.health("xai", model_id).samples == 1


async def test_the_callers_mistake_ends_the_run_and_spares_the_providers_health() -> None:
    script = Script(openai=ProviderError(400, "bad temperature", param="temperature"))
    attempts: list[Attempt] = []
    stats = ProviderStats()

    run = await run_candidates(_candidates(), script, attempts=attempts, watch=Watch(stats=stats))

    assert isinstance(run, Unserved)
    assert (run.error.status, run.error.param) == (400, "temperature")
    assert script.tried == ["openai"]
    assert [a.provider for a in attempts] == ["openai"]
    assert stats.health("openai", _candidates()[0].offer.provider_model_id).samples == 0


async def test_a_candidate_that_does_not_answer_in_time_is_a_timeout() -> None:
    script = Script(openai="hang", groq=ProviderError(429, "slow down"), xai="hang")
    attempts: list[Attempt] = []

    run = await run_candidates(
        _candidates(), script, attempts=attempts, seconds=lambda candidate: 0.01
    )

    assert isinstance(run, Unserved)
    assert (run.error.status, run.error.type) == (0, "timeout")
    assert [(a.provider, a.status_code) for a in attempts] == [
        ("openai", 0),
        ("groq", 429),
        ("xai", 0),
    ]


async def test_an_empty_answer_is_a_failure_worth_a_retry() -> None:
    script = Script(openai=StopAsyncIteration())

    run = await run_candidates(_candidates(), script, attempts=[])

    assert isinstance(run, Served) and run.candidate.offer.provider == "groq"


async def test_cancellation_is_not_a_provider_failure() -> None:
    script = Script(openai=asyncio.CancelledError())
    attempts: list[Attempt] = []

    with pytest.raises(asyncio.CancelledError):
        await run_candidates(_candidates(), script, attempts=attempts)

    assert attempts == []
