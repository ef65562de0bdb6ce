"""The router's pre-flight: what it asks billing to hold, the clamp it applies, what happens
when billing says no or cannot be reached, and the BYOK seam."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from tollgate.billing.v1 import billing_pb2
from tollgate_common.money import format_usd
from tollgate_router.catalog import build_catalog
from tollgate_router.credentials import SystemCredential
from tollgate_router.domain import (
    Caller,
    GenerationParams,
    GenerationRequest,
    ImagePart,
    Message,
    TextPart,
)
from tollgate_router.preflight import (
    BillingPreflight,
    BillingUnavailable,
    InsufficientFunds,
    estimate_prompt_tokens,
    worst_case,
)
from tollgate_router.relay import Generation
from tollgate_router.routing import Candidate, Plan

CATALOG = build_catalog(
    {
        "version": "v",
        "models": [
            {
                "id": "acme/m",
                "max_output_tokens": 1000,
                "providers": [
                    {"provider": "openai", "pricing": {"input": "0.000001", "output": "0.00001"}},
                    {
                        "provider": "groq",
                        "pricing": {
                            "input": "0.000002",
                            "output": "0.000004",
                            "input_cache_write": "0.000003",
                        },
                    },
                ],
            }
        ],
    }
)


def _candidates(byok: tuple[str, ...] = ()) -> tuple[Candidate, ...]:
    model = CATALOG.resolve("acme/m")
    assert model is not None
    credential = SystemCredential("x", "http://x", "k")
    return tuple(
        Candidate(
            model,
            offer,
            credential,
            adapter=None,  # type: ignore[arg-type]
            credential_type="byok" if offer.provider in byok else "system",
        )
        for offer in model.providers
    )


def _generation(text: str = "hello there", **params: Any) -> Generation:
    request = GenerationRequest(
        model="acme/m",
        messages=(Message("user", text),),
        params=GenerationParams(**params),
        caller=Caller(team_id="team_a"),
    )
    plan = Plan(_candidates(), ())
    return Generation(request, plan, [], time.monotonic(), datetime.now(UTC), "v")


def _rpc_error(code: grpc.StatusCode, details: str = "") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


class FakeBilling:
    def __init__(self) -> None:
        self.reserved: list[billing_pb2.ReserveRequest] = []
        self.released: list[str] = []
        # None: hold exactly the generation's worst case (no lease), with 10 left.
        self.reply: billing_pb2.ReserveResponse | None = None
        self.error: grpc.aio.AioRpcError | None = None

    async def Reserve(self, request: billing_pb2.ReserveRequest, **_: Any) -> Any:
        self.reserved.append(billing_pb2.ReserveRequest.FromString(request.SerializeToString()))
        if self.error is not None:
            raise self.error
        if self.reply is not None:
            return self.reply
        return billing_pb2.ReserveResponse(reserved=format_usd(worst_case(request)), available="10")

    async def Release(self, request: billing_pb2.ReleaseRequest, **_: Any) -> Any:
        self.released.append(request.hold_id)
        return billing_pb2.ReleaseResponse()


def _preflight(billing: FakeBilling, outage: str = "last-known") -> BillingPreflight:
    return BillingPreflight(billing, deadline_seconds=1.0, outage=outage)  # type: ignore[arg-type]


def test_the_prompt_estimate_is_an_upper_bound_from_its_size() -> None:
    assert estimate_prompt_tokens((Message("user", "hello there"),)) == 8 + 6  # 11 bytes / 2
    assert estimate_prompt_tokens((Message("user", "héllo"),)) == 8 + 3  # 6 UTF-8 bytes
    parts = (TextPart("ab"), ImagePart("data:image/png;base64," + "A" * 10_000))
    assert estimate_prompt_tokens((Message("user", parts),)) == 8 + 1 + 2000


async def test_the_worst_case_is_asked_for_at_the_highest_prices() -> None:
    billing = FakeBilling()
    generation = _generation(max_tokens=50)
    hold = await _preflight(billing).reserve(generation)
    [request] = billing.reserved
    assert request.hold_id.startswith("lease_") and request.team_id == "team_a"
    assert request.lease_amount == ""  # this router asks for no lease
    assert (request.input_tokens, request.max_output_tokens) == (14, 50)
    assert request.model_max_output_tokens == 1000
    # groq's cache-write price and openai's output price: the worst of both providers.
    assert (request.input_price, request.output_price) == ("0.000003", "0.00001")
    assert generation.request.params.max_tokens == 50  # no clamp asked
    assert hold.hold_id == request.hold_id
    await hold.release()
    assert billing.released == []  # its share went back to the lease billing still holds


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
async def test_the_output_is_clamped_to_what_billing_granted(field: str) -> None:
    billing = FakeBilling()
    billing.reply = billing_pb2.ReserveResponse(reserved="1", max_output_tokens=7, available="0")
    generation = _generation(**{field: 500})
    await _preflight(billing).reserve(generation)
    assert getattr(generation.request.params, field) == 7


async def test_no_credit_is_a_402_and_byok_candidates_still_serve() -> None:
    billing = FakeBilling()
    billing.error = _rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "Insufficient funds")
    with pytest.raises(InsufficientFunds):
        await _preflight(billing).reserve(_generation())

    generation = _generation()
    generation.plan = Plan(_candidates(byok=("groq",)), ())
    await _preflight(billing).reserve(generation)
    assert [c.offer.provider for c in generation.plan.candidates] == ["groq"]
    # Only the system candidate was priced.
    assert billing.reserved[-1].input_price == "0.000001"


async def test_byok_or_free_generations_reserve_nothing() -> None:
    billing = FakeBilling()
    generation = _generation()
    generation.plan = Plan(_candidates(byok=("openai", "groq")), ())
    await _preflight(billing).reserve(generation)
    free = _generation()
    free.plan = Plan(
        tuple(replace(c, offer=replace(c.offer, pricing=None, free=True)) for c in _candidates()),
        (),
    )
    await _preflight(billing).reserve(free)
    assert billing.reserved == []


async def test_billing_unreachable_admits_known_teams_on_their_last_balance() -> None:
    billing = FakeBilling()
    preflight = _preflight(billing)
    billing.reply = billing_pb2.ReserveResponse(reserved="0.01", available="0.025")
    await preflight.reserve(_generation(max_tokens=1000))  # known: 0.025 left
    billing.error = _rpc_error(grpc.StatusCode.UNAVAILABLE)
    # Worst case: 14 x 0.000003 + 1000 x 0.00001 = 0.010042
    await preflight.reserve(_generation(max_tokens=1000))
    await preflight.reserve(_generation(max_tokens=1000))
    with pytest.raises(BillingUnavailable):
        await preflight.reserve(_generation(max_tokens=1000))
    unknown = _generation()
    unknown.request = replace(unknown.request, caller=Caller(team_id="team_b"))
    with pytest.raises(BillingUnavailable) as refused:
        await preflight.reserve(unknown)
    assert refused.value.metadata["http_status"] == "503"


async def test_billing_unreachable_refuses_everything_when_closed() -> None:
    billing = FakeBilling()
    preflight = _preflight(billing, outage="closed")
    await preflight.reserve(_generation())
    billing.error = _rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED)
    with pytest.raises(BillingUnavailable):
        await preflight.reserve(_generation())
