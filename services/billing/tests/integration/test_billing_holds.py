"""Holds in the database (SQLite; PostgreSQL when configured): a new billing process over the same
database counts every hold the last one made; usage facts move their cost from the lease to the
balance in one transaction; an expired hold goes only when told its facts are in, and one its
router never gave back is listed as unsettled."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_billing.errors import InsufficientFunds
from tollgate_billing.ledger.repository import LedgerRepository
from tollgate_billing.ledger.service import CreditsService, HoldPolicy
from tollgate_billing.models import balances, holds

from .support import QUOTE, T0, Clock, Facts, generation

D = Decimal
HOLD_SECONDS = 60


class World:
    def __init__(self, engine: AsyncEngine) -> None:
        self.clock = Clock()
        self.engine = engine
        self.ledger = LedgerRepository(engine)
        self.credits = self.restart()

    async def audit(self, team_id: str = "team_a") -> None:
        """The balance row's ``held`` is what the team's live holds hold, one by one."""
        async with self.engine.connect() as conn:
            row = select(balances.c.held).where(balances.c.team_id == team_id)
            held = (await conn.execute(row)).scalar_one()
            live = select(holds.c.held).where(holds.c.team_id == team_id, holds.c.state == "live")
            assert held == sum((await conn.execute(live)).scalars(), D(0))

    def restart(self) -> CreditsService:
        """A new billing process over the same database (nothing kept in memory)."""
        self.credits = CreditsService(
            self.ledger, Facts(), self.clock, holds=HoldPolicy(hold_seconds=HOLD_SECONDS)
        )
        return self.credits


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    world = World(engine)
    await world.credits.top_up("team_a", "10", "seed", "user", "u")
    return world


async def test_a_restarted_billing_counts_every_hold(world: World) -> None:
    lease = await world.credits.reserve("team_a", "lease_1", QUOTE, D(2))
    assert lease.reservation.reserved == D(2)  # $10 pays for 4 worst cases of 0.5: a lease
    await world.credits.reserve("team_a", "gen_2", QUOTE)
    assert await world.restart().available("team_a") == D("7.5")
    for i in range(15):  # 15 more worst cases of 0.5 fit in the 7.5 left, not one more
        await world.credits.reserve("team_a", f"gen_{i + 3}", QUOTE)
    with pytest.raises(InsufficientFunds):
        await world.restart().reserve("team_a", "gen_last", QUOTE)
    await world.audit()
    # A repeat of a hold id answers the hold made before, in any process.
    assert (await world.restart().reserve("team_a", "gen_2", QUOTE)).reservation.reserved == D(
        "0.5"
    )


async def test_usage_facts_move_a_leases_money_to_the_balance_once(world: World) -> None:
    await world.credits.top_up("team_a", "100", "more", "user", "u")  # $110: leases are granted
    granted = await world.credits.reserve("team_a", "lease_1", QUOTE, D(5))
    assert granted.reservation.reserved == D(5)
    facts = [generation(f"gen_{i}", "0.3", hold_id="lease_1") for i in range(3)]
    await world.credits.apply_usage(facts)
    await world.credits.apply_usage(facts)  # a redelivery changes nothing
    # Balance 109.1, still held 5 - 0.9: what is available has not moved.
    assert await world.restart().available("team_a") == D(105)
    await world.credits.release("team_a", "lease_1", spent=D("1.2"))  # one fact of 0.3 to come
    assert await world.restart().available("team_a") == D("109.1") - D("0.3")
    await world.audit()
    await world.credits.apply_usage([generation("gen_3", "0.3", hold_id="lease_1")])
    assert await world.restart().available("team_a") == D("108.8")
    await world.audit()


async def test_expired_holds_go_when_their_facts_are_in_and_unreturned_ones_are_listed(
    world: World,
) -> None:
    await world.credits.reserve("team_a", "gen_kept", QUOTE)
    await world.credits.reserve("team_a", "gen_dead", QUOTE)
    await world.credits.apply_usage([generation("gen_kept", "0.1")])  # settles its own hold
    world.clock.now = T0 + timedelta(seconds=HOLD_SECONDS + 1)
    await world.credits.reserve("team_a", "gen_late", QUOTE)
    # Facts known applied only up to before the expiry: nothing goes.
    assert await world.credits.expire_holds(T0 + timedelta(seconds=HOLD_SECONDS - 1)) == 0
    assert await world.credits.available("team_a") == D("9.9") - D(1)
    assert await world.credits.unsettled("team_a") == []
    # Applied up to now: the hold of gen_dead goes (its router never gave it back); gen_late's
    # has not expired yet.
    assert await world.credits.expire_holds(world.clock.now) == 1
    assert await world.credits.available("team_a") == D("9.9") - D("0.5")
    await world.audit()
    [dead] = await world.credits.unsettled("team_a")
    assert (dead.hold_id, dead.reserved, dead.debited, dead.held) == (
        "gen_dead",
        D("0.5"),
        0,
        D("0.5"),
    )
    assert dead.expires_at == T0 + timedelta(seconds=HOLD_SECONDS)
    assert dead.expired_at == world.clock.now
    assert await world.credits.unsettled("team_b") == []
    assert [h.hold_id for h in await world.credits.unsettled(None)] == ["gen_dead"]
    # Its fact arriving late is charged once, and the listing shows it.
    await world.credits.apply_usage([generation("gen_dead", "0.2")])
    [dead] = await world.credits.unsettled("team_a")
    assert dead.debited == D("0.2")
    assert await world.credits.available("team_a") == D("9.7") - D("0.5")
    await world.audit()


async def test_a_lease_shrunk_in_use_frees_what_it_does_not_need(world: World) -> None:
    await world.credits.top_up("team_a", "100", "more", "user", "u")  # $110
    await world.credits.reserve("team_a", "lease_1", QUOTE, D(5))
    await world.credits.reserve("team_a", "lease_2", QUOTE, D(5))
    await world.credits.apply_usage([generation("gen_1", "0.3", hold_id="lease_1")])
    # Both retired, each with 0.3 spent and one worst case (0.5) running: each holds only
    # what that may still cost (lease_1's 0.3 is already debited).
    await world.credits.release("team_a", "lease_1", spent=D("0.8"), in_use=True)
    await world.credits.release("team_a", "lease_2", spent=D("0.8"), in_use=True)
    assert await world.restart().available("team_a") == D("109.7") - D("0.5") - D("0.8")
    await world.audit()
    # lease_2's router gives it back once its generations ended (0.6 in all, no fact yet).
    await world.credits.release("team_a", "lease_2", spent=D("0.6"))
    await world.credits.apply_usage([generation("gen_2", "0.6", hold_id="lease_2")])
    assert await world.restart().available("team_a") == D("109.1") - D("0.5")
    # lease_1's router dies: its hold expires holding what it still held, listed unsettled.
    world.clock.now = T0 + timedelta(seconds=HOLD_SECONDS + 1)
    assert await world.credits.expire_holds(world.clock.now) == 1
    [dead] = await world.credits.unsettled("team_a")
    assert (dead.hold_id, dead.debited, dead.held) == ("lease_1", D("0.3"), D("0.5"))
    assert await world.credits.available("team_a") == D("109.1")
    await world.audit()


async def test_a_hold_under_pressure_keeps_its_output_allowance_across_a_restart(
    world: World,
) -> None:
    for i in range(17):  # $10 less 17 worst cases of 0.5: 1.5 left, under four of them
        await world.credits.reserve("team_a", f"gen_{i}", QUOTE)
    pressed = replace(QUOTE, output_allowance=20)  # 20 of its 100 output tokens: 0.18
    first = (await world.credits.reserve("team_a", "lease_p", pressed, D(1))).reservation
    assert (first.reserved, first.max_output_tokens, first.output_allowance) == (D("0.75"), 0, 20)
    # A new process over the same database (as after kill -9) answers a repeat as it was made:
    # without the allowance the router would let each draw write the whole limit.
    again = (await world.restart().reserve("team_a", "lease_p", pressed, D(1))).reservation
    assert again == first
    await world.audit()
