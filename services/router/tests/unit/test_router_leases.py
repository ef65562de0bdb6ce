"""The router's credit leases: generations draw from a team's leases with no call to billing
while they cover them; when they are busy one more is asked for, sized to the demand; a lease
too small or too old is retired, shrunk to what its running generations may cost, and given
back, with what its generations spent, once the last of them has settled. Billing clamping while
this router's leases hold money nobody draws is answered by shrinking them and asking again."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from typing import Any

import grpc
import pytest
from tollgate.billing.v1 import billing_pb2
from tollgate_common.money import format_usd
from tollgate_router.credit.holds import Hold
from tollgate_router.credit.leases import Lease, LeaseBook, Need
from tollgate_router.credit.preflight import BillingPreflight, worst_case

from services.router.tests.unit.test_router_preflight import _generation, _rpc_error

D = Decimal
# _generation(max_tokens=1000): 14 prompt tokens x 0.000003 + 1000 x 0.00001.
WORST = D("0.010042")


class LeasingBilling:
    """Grants what the router asks for (up to ``cap``), records give-backs. With a
    ``balance``, holds count against it and a worst case it cannot cover is clamped (output
    price 0.00001) or refused, as billing does."""

    def __init__(self, cap: str = "1", balance: str | None = None) -> None:
        self.cap = D(cap)
        self.balance = None if balance is None else D(balance)
        self.holds: dict[str, Decimal] = {}
        self.reserved: list[billing_pb2.ReserveRequest] = []
        self.released: list[tuple[str, str]] = []
        self.shrunk: list[tuple[str, str]] = []
        self.pause: asyncio.Event | None = None
        self.pause_leases_only = False

    async def Reserve(self, request: billing_pb2.ReserveRequest, **_: Any) -> Any:
        self.reserved.append(billing_pb2.ReserveRequest.FromString(request.SerializeToString()))
        if self.pause is not None and (request.lease_amount or not self.pause_leases_only):
            await self.pause.wait()
        worst = worst_case(request)
        asked = D(request.lease_amount) if request.lease_amount else worst
        reserved, clamp = max(worst, min(asked, self.cap)), 0
        if self.balance is not None:
            available = self.balance - sum(self.holds.values(), D(0))
            if available < worst:
                clamp = int((available - D("0.000042")) / D("0.00001"))
                if clamp < 1:
                    raise _rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "Insufficient funds")
                reserved = D("0.000042") + clamp * D("0.00001")
            reserved = min(reserved, available)
            self.holds[request.hold_id] = reserved
        return billing_pb2.ReserveResponse(
            reserved=format_usd(reserved), max_output_tokens=clamp, available="100"
        )

    async def Release(self, request: billing_pb2.ReleaseRequest, **_: Any) -> Any:
        (self.shrunk if request.in_use else self.released).append((request.hold_id, request.spent))
        if request.hold_id in self.holds:  # no usage facts here: what was spent stays held
            spent = D(request.spent or "0")
            self.holds[request.hold_id] = min(self.holds[request.hold_id], spent)
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
    # A fifth does not fit: one more lease, sized to the demand (twice 5 worst cases).
    fifth = await preflight.reserve(_generation(max_tokens=1000))
    assert len(billing.reserved) == 2 and fifth.hold_id == billing.reserved[1].hold_id
    assert D(billing.reserved[1].lease_amount) == 10 * WORST
    for hold, cost in zip(holds, ("0.001", "0.002", "0", "0.004"), strict=True):
        hold.settle(D(cost))
    # Both stay current: the next generations draw from them with no call to billing.
    more = [await preflight.reserve(_generation(max_tokens=1000)) for _ in range(10)]
    assert len(billing.reserved) == 2
    assert {h.hold_id for h in more} == {r.hold_id for r in billing.reserved}
    assert billing.released == billing.shrunk == []


async def test_a_lease_retired_while_in_use_is_shrunk_then_given_back() -> None:
    billing = LeasingBilling()
    preflight = _preflight(billing, seconds=0.05)
    first, second = [await preflight.reserve(_generation(max_tokens=1000)) for _ in range(2)]
    first.settle(D("0.001"))
    await asyncio.sleep(0.1)  # past its time, with one generation still running
    third = await preflight.reserve(_generation(max_tokens=1000))
    [request, renewed] = billing.reserved
    assert third.hold_id == renewed.hold_id
    # Billing holds only what the lease may still cost: 0.001 spent + one worst case running.
    assert billing.shrunk == [(request.hold_id, format_usd(D("0.001") + WORST))]
    assert billing.released == []
    second.settle(D("0.003"))
    await asyncio.sleep(0)
    assert billing.released == [(request.hold_id, "0.004")]


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


def _need(worst: str) -> Need:
    """A generation whose worst case is ``worst``: 1,000 output tokens and no prompt."""
    return Need(D(0), 1000, D(worst) / 1000)


def test_a_draw_settles_once() -> None:
    given: list[Lease] = []
    book = LeaseBook(lambda team, lease: given.append(lease), lease_seconds=30)
    draw = book.add("team_a", "lease_1", D("1"), _need("0.4"))
    draw.settle(D("0.1"))
    draw.settle(D("0.1"))
    lease = book.current("team_a")
    assert lease is not None and (lease.spent, lease.drawn, lease.in_flight) == (D("0.1"), 0, 0)
    assert book.draw("team_a", _need("0.9")) is not None  # 1 - 0.1 left
    assert book.draw("team_a", _need("0.1")) is None  # busy: it stays current
    assert book.current("team_a") is lease
    assert book.draw("team_a", _need("0.95")) is None  # never enough: retired, given back when
    assert book.current("team_a") is None  # its draw settles
    assert given == []


def test_a_lease_with_an_allowance_draws_and_caps_each_generation_at_it() -> None:
    book = LeaseBook(lambda team, lease: None, lease_seconds=30)
    need = Need(D("0.01"), 64_000, D("0.000015"))  # a whole Claude Sonnet 4 window: $0.97
    first = book.add("team_a", "lease_1", D("0.5"), need, allowance=4096)
    # Each draw holds the prompt and 4,096 output tokens, and says so: it is the upstream cap.
    assert (first.tokens, first.worst) == (4096, D("0.01") + 4096 * D("0.000015"))
    draws = [first]
    while (draw := book.draw("team_a", need)) is not None:
        draws.append(draw)
    assert len(draws) == int(
        D("0.5") / first.worst
    )  # 7 at once, where not one whole worst case fits
    assert all(d.tokens == 4096 for d in draws)
    # A generation asking for less than the allowance keeps its own limit and costs less.
    draws[0].settle(D("0.02"))
    small = book.draw("team_a", Need(D("0.01"), 1000, D("0.000015")))
    assert small is not None and small.tokens == 1000


def test_a_draw_that_succeeded_teaches_the_allowance_its_output() -> None:
    seen: list[tuple[str, int]] = []
    book = LeaseBook(lambda team, lease: None, lease_seconds=30, observe=lambda *s: seen.append(s))
    draw = book.add("team_a", "lease_1", D("1"), _need("0.4"))
    draw.settle(D("0.1"), "anthropic/claude-sonnet-4", 812)
    draw.settle(D("0.1"), "anthropic/claude-sonnet-4", 900)  # settles once
    book.draw("team_a", _need("0.4")).settle(D("0"))  # type: ignore[union-attr]  # failed: nothing learnt
    assert seen == [("anthropic/claude-sonnet-4", 812)]


async def test_billing_clamping_while_a_lease_holds_unused_money_is_no_shortage() -> None:
    # $0.05: the lease takes 0.04 of it (four worst cases), one generation running.
    billing = LeasingBilling(cap="0.04", balance="0.05")
    preflight = _preflight(billing)
    running = await preflight.reserve(_generation(max_tokens=1000))
    # Another key of the team: 0.01 is left at billing, less than its worst case; but the
    # lease only needs the one it is running. It is shrunk, and the hold is whole.
    other = _generation(max_tokens=1000)
    other.request = replace(other.request, caller=replace(other.request.caller, key_id="key_other"))
    hold = await preflight.reserve(other)
    assert other.request.params.output_cap == 1000  # not clamped
    clamped, again = billing.reserved[1:]
    assert billing.shrunk == [(running.hold_id, format_usd(WORST))]
    assert (clamped.hold_id, "") in billing.released  # the clamped hold went back
    assert hold.hold_id == again.hold_id and billing.holds[again.hold_id] >= WORST
    # A real shortage is still clamped, exactly as a hold per generation would be: what the
    # balance has left past the two running generations' worst cases (the leases reclaimed).
    short = _generation(max_tokens=5000)
    await preflight.reserve(short)
    assert short.request.params.output_cap == int(
        (D("0.05") - 2 * WORST - D("0.000042")) / D("0.00001")
    )


async def test_billing_is_told_how_many_generations_of_the_team_run_here() -> None:
    """A lease is one hold at billing however many generations draw on it: each Reserve says
    how many of the team's generations this router has running or starting (this one
    included), so that billing knows a burst for one when it decides on whole windows."""
    billing = LeasingBilling(cap="0")  # each generation asks: billing sees every count
    preflight = _preflight(billing)
    first, second, third = [await preflight.reserve(_generation(max_tokens=1000)) for _ in range(3)]
    assert [r.running_generations for r in billing.reserved] == [1, 2, 3]

    second.settle(D("0.001"))
    third.settle(D("0.002"))
    await preflight.reserve(_generation(max_tokens=1000))
    assert len(billing.reserved) == 4
    assert billing.reserved[-1].running_generations == 2  # the first, and this one

    # Generations starting together count each other while they wait for billing.
    billing.pause = asyncio.Event()
    pending = [
        asyncio.create_task(preflight.reserve(_generation(max_tokens=1000))) for _ in range(3)
    ]
    await asyncio.sleep(0.01)
    billing.pause.set()
    await asyncio.gather(*pending)
    assert max(r.running_generations for r in billing.reserved[-3:]) == 5
    first.settle(D("0.001"))


async def test_a_burst_that_arrives_together_is_counted_whole_by_its_first_reserve() -> None:
    """64 generations that reached the router in one message (the edge sends a burst's
    queued requests together): the first to ask billing waits for the others to start, so
    its count is the burst's, not 1 — billing then holds the burst for allowances instead of
    granting whole windows the last of it would find held."""
    billing = LeasingBilling(cap="0")
    preflight = _preflight(billing)

    async def arriving() -> Hold:
        await asyncio.sleep(0)  # each first goes through a step of its own, as in the router
        return await preflight.reserve(_generation(max_tokens=1000))

    await asyncio.gather(*(arriving() for _ in range(64)))
    assert billing.reserved[0].running_generations == 64
