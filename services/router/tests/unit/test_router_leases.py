"""The router's credit leases: generations draw from a team's lease with no call to billing
while it covers them; a lease too small or too old is retired and given back, with what its
generations spent, once the last of them has settled."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from tollgate.billing.v1 import billing_pb2
from tollgate_common.money import format_usd
from tollgate_router.credit.leases import Lease, LeaseBook
from tollgate_router.credit.preflight import BillingPreflight, worst_case

from services.router.tests.unit.test_router_preflight import _generation

D = Decimal
# _generation(max_tokens=1000): 14 prompt tokens x 0.000003 + 1000 x 0.00001.
WORST = D("0.010042")


class LeasingBilling:
    """Grants what the router asks for (up to ``cap``), records give-backs."""

    def __init__(self, cap: str = "1") -> None:
        self.cap = D(cap)
        self.reserved: list[billing_pb2.ReserveRequest] = []
        self.released: list[tuple[str, str]] = []
        self.pause: asyncio.Event | None = None
        self.pause_leases_only = False

    async def Reserve(self, request: billing_pb2.ReserveRequest, **_: Any) -> Any:
        self.reserved.append(billing_pb2.ReserveRequest.FromString(request.SerializeToString()))
        if self.pause is not None and (request.lease_amount or not self.pause_leases_only):
            await self.pause.wait()
        worst = worst_case(request)
        asked = D(request.lease_amount) if request.lease_amount else worst
        return billing_pb2.ReserveResponse(
            reserved=format_usd(max(worst, min(asked, self.cap))), available="100"
        )

    async def Release(self, request: billing_pb2.ReleaseRequest, **_: Any) -> Any:
        self.released.append((request.hold_id, request.spent))
        return billing_pb2.ReleaseResponse()


def _preflight(billing: LeasingBilling, lease: str = "0.05", seconds: float = 30.0) -> Any:
    return BillingPreflight(
        billing,  # type: ignore[arg-type]
        deadline_seconds=1.0,
        outage="last-known",
        lease=D(lease),
        lease_seconds=seconds,
    )


async def test_generations_draw_from_the_lease_without_calling_billing() -> None:
    billing = LeasingBilling()
    preflight = _preflight(billing)  # 0.05: four worst cases of 0.010042
    holds = [await preflight.reserve(_generation(max_tokens=1000)) for _ in range(4)]
    [request] = billing.reserved
    assert request.lease_amount == "0.05"
    assert {h.hold_id for h in holds} == {request.hold_id}  # their facts name the lease
    # A fifth does not fit: a new lease; the first is retired but still in use.
    fifth = await preflight.reserve(_generation(max_tokens=1000))
    assert len(billing.reserved) == 2 and fifth.hold_id == billing.reserved[1].hold_id
    assert billing.released == []
    for hold, cost in zip(holds, ("0.001", "0.002", "0", "0.004"), strict=True):
        hold.settle(D(cost))
    await asyncio.sleep(0)  # the give-back is sent in the background
    assert billing.released == [(request.hold_id, "0.007")]


async def test_a_generation_that_reached_no_provider_gives_its_share_back() -> None:
    billing = LeasingBilling()
    preflight = _preflight(billing, lease="0.02")  # room for one worst case, not two
    first = await preflight.reserve(_generation(max_tokens=1000))
    await first.release()
    await preflight.reserve(_generation(max_tokens=1000))
    assert len(billing.reserved) == 1
    assert billing.released == []


async def test_a_lease_past_its_time_is_given_back_when_idle() -> None:
    billing = LeasingBilling()
    preflight = _preflight(billing, seconds=0.05)
    hold = await preflight.reserve(_generation(max_tokens=1000))
    hold.settle(D("0.003"))
    sweeping = asyncio.create_task(preflight.run())
    await asyncio.sleep(0.2)
    assert billing.released == [(hold.hold_id, "0.003")]
    sweeping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sweeping


async def test_shutdown_gives_every_idle_lease_back() -> None:
    billing = LeasingBilling()
    preflight = _preflight(billing)
    hold = await preflight.reserve(_generation(max_tokens=1000))
    hold.settle(D("0.001"))
    sweeping = asyncio.create_task(preflight.run())
    await asyncio.sleep(0)
    sweeping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sweeping
    assert billing.released == [(hold.hold_id, "0.001")]


async def test_concurrent_first_requests_of_a_team_share_one_new_lease() -> None:
    billing = LeasingBilling()
    billing.pause = asyncio.Event()
    preflight = _preflight(billing)
    pending = [
        asyncio.create_task(preflight.reserve(_generation(max_tokens=1000))) for _ in range(4)
    ]
    await asyncio.sleep(0.01)
    billing.pause.set()
    holds = await asyncio.gather(*pending)
    assert len(billing.reserved) == 1
    assert len({h.hold_id for h in holds}) == 1


async def test_a_slow_lease_request_does_not_queue_the_book_behind_it() -> None:
    billing = LeasingBilling()
    billing.pause, billing.pause_leases_only = asyncio.Event(), True  # the lease call hangs
    preflight = _preflight(billing)
    first = asyncio.create_task(preflight.reserve(_generation(max_tokens=1000)))
    await asyncio.sleep(0)
    # The second generation of the book holds on its own while the lease is still asked for.
    second = await asyncio.wait_for(preflight.reserve(_generation(max_tokens=1000)), 5)
    assert not first.done()
    lease_request, own = billing.reserved
    assert lease_request.lease_amount == "0.05" and own.lease_amount == ""
    assert second.hold_id == own.hold_id
    second.settle(D("0.002"))
    await asyncio.sleep(0)
    assert billing.released == [(own.hold_id, "0.002")]  # a one-off hold goes back at once
    billing.pause.set()
    lease = await first
    # The lease, once granted, serves the next generations with no call to billing.
    third = await preflight.reserve(_generation(max_tokens=1000))
    assert third.hold_id == lease.hold_id == lease_request.hold_id
    assert len(billing.reserved) == 2


async def test_when_billing_grants_only_the_worst_case_every_generation_asks() -> None:
    billing = LeasingBilling(cap="0")  # near the end of a balance
    preflight = _preflight(billing)
    first = await preflight.reserve(_generation(max_tokens=1000))
    first.settle(D("0.004"))
    await preflight.reserve(_generation(max_tokens=1000))
    await asyncio.sleep(0)
    assert len(billing.reserved) == 2
    assert billing.released == [(first.hold_id, "0.004")]


def test_a_draw_settles_once() -> None:
    given: list[Lease] = []
    book = LeaseBook(lambda team, lease: given.append(lease), lease_seconds=30)
    draw = book.add("team_a", "lease_1", D("1"), D("0.4"))
    draw.settle(D("0.1"))
    draw.settle(D("0.1"))
    lease = book.current("team_a")
    assert lease is not None and (lease.spent, lease.drawn, lease.in_flight) == (D("0.1"), 0, 0)
    assert book.draw("team_a", D("0.9")) is not None  # 1 - 0.1 left
    assert book.draw("team_a", D("0.1")) is None  # retired: given back when its draw settles
    assert given == []
