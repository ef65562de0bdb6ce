"""The router's side of rate limits: a caller without a limit costs no admission (one listing
per team and second), a limited one is admitted at billing and finishes once with the tokens
it used, billing's refusal reaches the caller with its metadata, an unreachable billing lets
the request through; and a provider's own 429 after failover is named apart."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from tollgate.billing.v1 import billing_pb2
from tollgate_billing.errors import RateLimited as BillingRateLimited
from tollgate_router.credit.limits import UNLIMITED, BillingRateLimits, RateLimited
from tollgate_router.domain import Caller
from tollgate_router.providers import ProviderError
from tollgate_router.routing.planning import final_error

CALLER = Caller(team_id="team_a", project_id="prj_1", key_id="key_1")
OTHER_KEY = Caller(team_id="team_a", project_id="prj_1", key_id="key_2")


class FakeBilling:
    def __init__(self, *limits: tuple[str, str]) -> None:
        self.limits = list(limits)
        self.listed = 0
        self.admitted: list[billing_pb2.AdmitRequestRequest] = []
        self.finished: list[tuple[str, int]] = []
        self.renewed: list[list[tuple[str, str]]] = []
        self.error: grpc.aio.AioRpcError | None = None

    async def ListRateLimits(self, request: billing_pb2.ListRateLimitsRequest, **_: Any) -> Any:
        self.listed += 1
        return billing_pb2.ListRateLimitsResponse(
            rate_limits=[
                billing_pb2.RateLimit(scope=scope, scope_id=scope_id, requests_per_minute=5)
                for scope, scope_id in self.limits
            ]
        )

    async def AdmitRequest(self, request: billing_pb2.AdmitRequestRequest, **_: Any) -> Any:
        self.admitted.append(request)
        if self.error is not None:
            raise self.error
        status = billing_pb2.RateLimitStatus(limit_requests=5, remaining_requests=4)
        return billing_pb2.AdmitRequestResponse(limited=True, status=status)

    async def RenewRequestSlots(
        self, request: billing_pb2.RenewRequestSlotsRequest, **_: Any
    ) -> Any:
        self.renewed.append([(slot.team_id, slot.slot_id) for slot in request.slots])
        return billing_pb2.RenewRequestSlotsResponse(renewed=len(request.slots))

    async def FinishRequest(self, request: billing_pb2.FinishRequestRequest, **_: Any) -> Any:
        self.finished.append((request.slot_id, request.tokens))
        return billing_pb2.FinishRequestResponse()


def _limits(billing: FakeBilling) -> BillingRateLimits:
    return BillingRateLimits(billing, deadline_seconds=1.0)  # type: ignore[arg-type]


def _refusal() -> grpc.aio.AioRpcError:
    status = BillingRateLimited(
        "Rate limit reached for the key key_1 on requests per minute (RPM): Limit 5",
        metadata={"type": "requests", "param": "requestsPerMinute", "retry_after": "12"},
    ).to_status()
    return grpc.aio.AioRpcError(
        status.code,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(*status.trailing_metadata),
        status.details,
    )


def _tokens() -> int:
    return 42


async def test_a_caller_without_a_limit_is_never_admitted_at_billing() -> None:
    billing = FakeBilling(("key", "key_2"))
    limits = _limits(billing)
    for _ in range(20):
        assert await limits.admit(CALLER, _tokens) is UNLIMITED
    assert billing.admitted == []
    assert billing.listed == 1  # the team's limits, listed once for the second


async def test_concurrent_first_requests_of_a_team_share_one_listing() -> None:
    billing = FakeBilling()
    limits = _limits(billing)
    await asyncio.gather(*(limits.admit(CALLER, _tokens) for _ in range(10)))
    assert billing.listed == 1


async def test_a_limited_caller_is_admitted_and_finishes_once_with_its_tokens() -> None:
    billing = FakeBilling(("project", "prj_1"))
    limits = _limits(billing)
    permit = await limits.admit(OTHER_KEY, _tokens)
    [asked] = billing.admitted
    assert (asked.team_id, asked.project_id, asked.key_id, asked.tokens) == (
        "team_a",
        "prj_1",
        "key_2",
        42,
    )
    assert permit.status is not None and permit.status.remaining_requests == 4
    permit.finish(17)
    permit.finish(99)  # a second end changes nothing
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert billing.finished == [(asked.slot_id, 17)]


async def test_the_slots_of_running_requests_are_renewed_until_they_finish() -> None:
    billing = FakeBilling(("team", "team_a"))
    limits = _limits(billing)
    first = await limits.admit(CALLER, _tokens)
    second = await limits.admit(OTHER_KEY, _tokens)
    slots = [("team_a", asked.slot_id) for asked in billing.admitted]
    assert await limits.renew() == 2
    first.finish(10)
    assert await limits.renew() == 1
    second.finish(10)
    assert await limits.renew() == 0
    assert billing.renewed == [slots, slots[1:]]  # nothing asked once none is running


async def test_billings_refusal_reaches_the_caller_with_its_metadata() -> None:
    billing = FakeBilling(("team", "team_a"))
    billing.error = _refusal()
    with pytest.raises(RateLimited) as refused:
        await _limits(billing).admit(CALLER, _tokens)
    assert refused.value.metadata["param"] == "requestsPerMinute"
    assert refused.value.metadata["retry_after"] == "12"
    assert "key key_1" in refused.value.message


async def test_an_unreachable_billing_lets_the_request_through() -> None:
    billing = FakeBilling(("team", "team_a"))
    billing.error = grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "down"
    )
    assert await _limits(billing).admit(CALLER, _tokens) is UNLIMITED


def test_a_providers_own_429_names_the_provider() -> None:
    error = final_error(ProviderError(429, "slow down", type="requests"), "groq")
    assert error.reason == "PROVIDER_REJECTED"
    assert error.metadata["provider_status"] == "429"
    assert error.metadata["code"] == "provider_rate_limited"
    assert "groq" in error.message
