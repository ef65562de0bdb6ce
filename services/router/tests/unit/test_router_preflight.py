"""The router's pre-flight: what it asks billing to hold, the clamp it applies, what happens
when billing says no or cannot be reached, and the BYOK seam."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import grpc
import pytest
from tollgate.billing.v1 import billing_pb2
from tollgate_billing.errors import BudgetExceeded as BillingBudgetExceeded
from tollgate_common.errors import DomainError
from tollgate_common.money import format_usd
from tollgate_router.catalog.catalog import build_catalog
from tollgate_router.credentials.system import SystemCredential
from tollgate_router.credit.estimates import estimate_embedding_tokens, estimate_prompt_tokens
from tollgate_router.credit.preflight import (
    Ask,
    BillingPreflight,
    BillingUnavailable,
    BudgetExceeded,
    InsufficientFunds,
    worst_case,
    worst_prices,
)
from tollgate_router.domain import (
    Caller,
    GenerationParams,
    GenerationRequest,
    ImagePart,
    Message,
    TextPart,
)
from tollgate_router.generation.relay import Generation
from tollgate_router.providers import UpstreamCall, openai_wire
from tollgate_router.routing.planning import Candidate, Plan

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
    params = generation.request.params
    assert params.output_cap == 7  # the adapters send no more (test_router_output_caps.py)
    call = UpstreamCall("http://x", "k", "gpt-4o", generation.request.messages, params, False)
    assert openai_wire.request_body(call)[field] == 7


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
    assert (refused.value.code, refused.value.reason) == (
        grpc.StatusCode.UNAVAILABLE,
        "BILLING_UNAVAILABLE",
    )


async def test_billing_unreachable_refuses_everything_when_closed() -> None:
    billing = FakeBilling()
    preflight = _preflight(billing, outage="closed")
    await preflight.reserve(_generation())
    billing.error = _rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED)
    with pytest.raises(BillingUnavailable):
        await preflight.reserve(_generation())


def _refusal(error: type[DomainError], message: str) -> grpc.aio.AioRpcError:
    """A refusal as billing sends it: status, message and ErrorInfo in the trailers."""
    status = error(message).to_status()
    return grpc.aio.AioRpcError(
        status.code,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(*status.trailing_metadata),
        status.details,
    )


async def test_the_project_and_key_are_sent_and_a_budget_refusal_is_named() -> None:
    billing = FakeBilling()
    generation = _generation()
    generation.request = replace(
        generation.request, caller=Caller(team_id="team_a", project_id="prj_1", key_id="key_1")
    )
    await _preflight(billing).reserve(generation)
    assert (billing.reserved[0].project_id, billing.reserved[0].key_id) == ("prj_1", "key_1")

    message = "Budget exceeded: the key key_1 budget ($1.00 per day) is used up"
    billing.error = _refusal(BillingBudgetExceeded, message)
    with pytest.raises(BudgetExceeded) as refused:
        await _preflight(billing).reserve(_generation())
    assert refused.value.message == message


async def test_a_long_prompt_is_reserved_at_its_long_context_tier() -> None:
    catalog = build_catalog(
        {
            "version": "v",
            "models": [
                {
                    "id": "acme/long",
                    "max_output_tokens": 100,
                    "providers": [
                        {
                            "provider": "openai",
                            "pricing": {
                                "input": "0.000001",
                                "output": "0.00001",
                                "tiers": [
                                    {
                                        "above_input_tokens": 200,
                                        "input": "0.000002",
                                        "output": "0.00002",
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    )
    model = catalog.resolve("acme/long")
    assert model is not None
    credential = SystemCredential("x", "http://x", "k")
    plan = Plan((Candidate(model, model.providers[0], credential, adapter=None),), ())  # type: ignore[arg-type]
    billing = FakeBilling()
    for text, prices in (("short", ("0.000001", "0.00001")), ("x" * 400, ("0.000002", "0.00002"))):
        generation = _generation(text)
        generation.plan = plan
        await _preflight(billing).reserve(generation)
        assert (billing.reserved[-1].input_price, billing.reserved[-1].output_price) == prices


async def test_embeddings_reserve_their_input_only() -> None:
    billing = FakeBilling()
    ask = Ask(Caller(team_id="team_a"), Plan(_candidates(), ()), 40, output=False)
    admission = await _preflight(billing).admit(ask)
    [request] = billing.reserved
    assert (request.input_tokens, request.output_price, request.max_output_tokens) == (40, "0", 0)
    assert admission.hold.hold_id == request.hold_id
    assert estimate_embedding_tokens(("hello there", (1, 2, 3))) == 6 + 1 + 3


async def test_a_lease_serves_only_the_project_and_key_it_was_granted_for() -> None:
    billing = FakeBilling()
    billing.reply = billing_pb2.ReserveResponse(reserved="5", available="100")  # a big lease
    preflight = BillingPreflight(
        billing,  # type: ignore[arg-type]
        deadline_seconds=1.0,
        outage="last-known",
        lease=Decimal(5),
    )

    def of(key_id: str) -> Generation:
        generation = _generation()
        caller = Caller(team_id="team_a", project_id="prj_1", key_id=key_id)
        generation.request = replace(generation.request, caller=caller)
        return generation

    first = await preflight.reserve(of("key_1"))
    again = await preflight.reserve(of("key_1"))  # drawn from key_1's lease: no round trip
    assert len(billing.reserved) == 1 and again.hold_id == first.hold_id
    # key_2 may have a budget of its own that key_1's lease was not capped by: its own Reserve.
    other = await preflight.reserve(of("key_2"))
    assert len(billing.reserved) == 2 and other.hold_id != first.hold_id
    assert billing.reserved[1].key_id == "key_2"


def test_a_generation_that_may_draw_images_is_held_at_the_per_image_price() -> None:
    model = CATALOG.resolve("acme/m")
    assert model is not None
    [openai, groq] = _candidates()
    drawing = replace(
        openai,
        offer=replace(
            openai.offer,
            pricing=replace(openai.offer.pricing, image=Decimal("0.039")),  # type: ignore[type-var]
        ),
    )
    text_only = worst_prices((drawing, groq))
    assert text_only.output == Decimal("0.00001")
    # 0.039 per image of 1,290 output tokens: ~0.0000302 a token, above the text price.
    with_images = worst_prices((drawing, groq), images=True)
    assert with_images.output == Decimal("0.039") / 1290
