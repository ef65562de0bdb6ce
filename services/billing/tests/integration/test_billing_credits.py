"""CreditsService on a real database (SQLite; PostgreSQL when configured): the ledger, the free
tier on the right days, top-ups, usage charged once, reservations under concurrency."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_billing.errors import InsufficientFunds
from tollgate_billing.ledger.account import Account, EntryKind
from tollgate_billing.ledger.repository import LedgerRepository
from tollgate_billing.ledger.service import CreditsService
from tollgate_billing.models import ledger_entries
from tollgate_common.db import create_engine
from tollgate_common.errors import InvalidArgument
from tollgate_common.inbox import Stored

from .support import QUOTE, T0, Clock, Facts, generation

D = Decimal


class World:
    def __init__(self, engine: AsyncEngine) -> None:
        self.clock = Clock()
        self.facts = Facts()
        self.ledger = LedgerRepository(engine)
        self.engine = engine
        self.credits = self.restart()

    def restart(self) -> CreditsService:
        """A new process: an empty balance cache over the same database."""
        self.credits = CreditsService(self.ledger, self.facts, self.clock)
        return self.credits

    async def audit(self, team_id: str) -> Account:
        """The stored account, after checking it equals the sum of the team's entries."""
        account = await self.ledger.load(team_id)
        assert account is not None
        _, total = await self.ledger.entries_total(team_id)
        assert total == account.balance
        return account

    async def kinds(self, team_id: str) -> list[str]:
        query = (
            select(ledger_entries.c.kind)
            .where(ledger_entries.c.team_id == team_id)
            .order_by(ledger_entries.c.id)
        )
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).scalars())


@pytest.fixture
def world(engine: AsyncEngine) -> World:
    return World(engine)


async def test_a_new_team_has_nothing_until_its_first_request(world: World) -> None:
    account = await world.credits.credits("team_a")
    assert (account.balance, account.total_used) == (D(0), D(0))
    assert await world.ledger.load("team_a") is None


async def test_the_first_request_starts_the_free_tier(world: World) -> None:
    await world.credits.reserve("team_a", "gen_1", QUOTE)
    account = await world.audit("team_a")
    assert account.balance == D(5) and account.free_anchor == T0
    assert world.facts.events() == [("free-credits-granted", "5")]


async def test_free_credit_is_topped_up_every_thirty_days(world: World) -> None:
    await world.credits.reserve("team_a", "gen_1", QUOTE)
    await world.credits.apply_usage([generation("gen_1", "1.5")])
    world.clock.now = T0 + timedelta(days=29)
    await world.credits.reserve("team_a", "gen_2", QUOTE)
    assert (await world.audit("team_a")).balance == D("3.5")  # no grant yet
    await world.credits.release("team_a", "gen_2")
    world.clock.now = T0 + timedelta(days=30)
    await world.credits.reserve("team_a", "gen_3", QUOTE)
    account = await world.audit("team_a")
    assert account.balance == D(5)  # topped up to $5, not $8.5
    assert world.facts.events()[-1] == ("free-credits-granted", "1.5")
    world.clock.now = T0 + timedelta(days=61)
    world.restart()  # a restarted billing finds the period from the database
    await world.credits.reserve("team_a", "gen_4", QUOTE)
    assert (await world.audit("team_a")).balance == D(5)
    assert await world.kinds("team_a") == ["free_grant", "usage", "free_grant"]


async def test_a_purchase_ends_the_free_tier(world: World) -> None:
    await world.credits.reserve("team_a", "gen_1", QUOTE)
    await world.credits.top_up("team_a", "10", "order-1", "user", "user_1")
    world.clock.now = T0 + timedelta(days=45)
    await world.credits.reserve("team_a", "gen_2", QUOTE)
    account = await world.audit("team_a")
    assert account.balance == D(15) and account.purchased
    assert world.facts.events() == [("free-credits-granted", "5"), ("credits-purchased", "10")]


async def test_a_top_up_is_applied_once_per_idempotency_key(world: World) -> None:
    results = await asyncio.gather(
        *(world.credits.top_up("team_a", "12.34", "order-1", "user", "u") for _ in range(5))
    )
    assert {r.balance for r in results} == {D("12.34")}
    assert (await world.audit("team_a")).balance == D("12.34")
    assert len(world.facts.facts) == 1


@pytest.mark.parametrize("amount", ["0", "-1", "1.001", "x", ""])
async def test_a_bad_top_up_changes_nothing(world: World, amount: str) -> None:
    with pytest.raises(InvalidArgument):
        await world.credits.top_up("team_a", amount, "", "user", "u")
    assert await world.ledger.load("team_a") is None


async def test_the_same_generation_twice_is_charged_once(world: World) -> None:
    await world.credits.top_up("team_a", "10", "o", "user", "u")
    first = await world.credits.apply_usage([generation("gen_1", "0.25")])
    again = await world.credits.apply_usage([generation("gen_1", "0.25"), generation("gen_1", "9")])
    assert first == [Stored.NEW] and again == [Stored.DUPLICATE, Stored.DUPLICATE]
    account = await world.audit("team_a")
    assert (account.balance, account.total_used) == (D("9.75"), D("0.25"))


async def test_a_batch_charges_each_team_exactly(world: World) -> None:
    await world.credits.top_up("team_a", "10", "o", "user", "u")
    await world.credits.top_up("team_b", "10", "o", "user", "u")
    batch = [generation(f"gen_{i}", "0.0000001", team_id=f"team_{'ab'[i % 2]}") for i in range(600)]
    assert await world.credits.apply_usage(batch) == [Stored.NEW] * 600
    for team in ("team_a", "team_b"):
        account = await world.audit(team)
        assert account.total_used == D("0.00003")
        assert account.balance == D("9.99997")


async def test_usage_of_a_team_billing_never_saw_starts_its_free_tier(world: World) -> None:
    # Billing was down while the request was served: the fact alone starts the free tier.
    await world.credits.apply_usage([generation("gen_1", "0.5", created_at=T0)])
    account = await world.audit("team_a")
    assert (account.balance, account.free_anchor) == (D("4.5"), T0)
    assert await world.kinds("team_a") == ["free_grant", "usage"]


async def test_a_byok_or_free_generation_posts_no_entry(world: World) -> None:
    await world.credits.top_up("team_a", "1", "o", "user", "u")
    await world.credits.apply_usage([generation("gen_1", "0", credential_type="byok")])
    assert await world.kinds("team_a") == ["purchase"]


async def test_usage_settles_the_hold(world: World) -> None:
    await world.credits.top_up("team_a", "1", "o", "user", "u")
    await world.credits.reserve("team_a", "gen_1", QUOTE)
    await world.credits.reserve("team_a", "gen_2", QUOTE)
    with pytest.raises(InsufficientFunds):
        await world.credits.reserve("team_a", "gen_3", QUOTE)
    await world.credits.apply_usage([generation("gen_1", "0.2")])
    # 0.8 left, 0.5 still held for gen_2: 0.3 covers the prompt and 50 output tokens
    clamped = (await world.credits.reserve("team_a", "gen_3", QUOTE)).reservation
    assert (clamped.reserved, clamped.max_output_tokens) == (D("0.3"), 50)
    await world.credits.release("team_a", "gen_2")
    assert (
        await world.credits.reserve("team_a", "gen_4", QUOTE)
    ).reservation.max_output_tokens == 0


async def test_concurrent_reservations_never_hold_more_than_the_balance(world: World) -> None:
    await world.credits.top_up("team_a", "2.75", "o", "user", "u")

    async def one(i: int) -> Decimal:
        try:
            reservation = (await world.credits.reserve("team_a", f"gen_{i}", QUOTE)).reservation
        except InsufficientFunds:
            return D(0)
        return reservation.reserved

    held = [r for r in await asyncio.gather(*(one(i) for i in range(200))) if r]
    # Five whole holds of 0.5, then one clamped to what is left: 0.1 prompt + 37 tokens.
    assert sorted(held) == [D("0.248")] + [D("0.5")] * 5
    assert sum(held) <= D("2.75")


async def test_concurrent_writers_keep_the_balance_equal_to_the_entries(world: World) -> None:
    await world.credits.top_up("team_a", "100", "seed", "user", "u")
    usage = [
        world.credits.apply_usage([generation(f"gen_{i}_{j}", "0.01") for j in range(5)])
        for i in range(20)
    ]
    top_ups = [world.credits.top_up("team_a", "1", f"o{i}", "user", "u") for i in range(10)]
    await asyncio.gather(*usage, *top_ups)
    account = await world.audit("team_a")
    assert account.balance == D(100) + D(10) - D("1.00")
    assert account.total_used == D("1.00")


async def test_an_adjustment_is_an_entry_and_an_activity_event(world: World) -> None:
    await world.credits.top_up("team_a", "5", "o", "user", "u")
    await world.credits.adjust("team_a", D("-2"), "fix-1", EntryKind.ADJUSTMENT, "user_admin")
    await world.credits.adjust("team_a", D("-2"), "fix-1", EntryKind.ADJUSTMENT, "user_admin")
    assert (await world.audit("team_a")).balance == D(3)
    assert world.facts.events()[-1] == ("credits-adjusted", "-2")


async def test_a_batch_across_a_free_period_tops_up_between_its_debits(world: World) -> None:
    batch = [
        generation("gen_late", "2", created_at=T0 + timedelta(days=31)),
        generation("gen_1", "1", created_at=T0),
        generation("gen_2", "0.5", created_at=T0 + timedelta(days=1)),
    ]
    await world.credits.apply_usage(batch)
    account = await world.audit("team_a")
    # 5 granted, 1.5 spent, topped up by 1.5 on day 31, then 2 spent.
    assert (account.balance, account.total_used, account.free_balance) == (D(3), D("3.5"), D(3))
    assert await world.kinds("team_a") == ["free_grant", "usage", "usage", "free_grant", "usage"]


async def test_two_billing_processes_charge_overlapping_batches_once(
    world: World, database_url: str
) -> None:
    """Two replicas (own engines, own caches) applying the same facts at the same time."""
    other_engine = create_engine(database_url)
    try:
        other = CreditsService(LedgerRepository(other_engine), Facts(), world.clock)
        await world.credits.top_up("team_a", "50", "seed", "user", "u")
        facts = [generation(f"gen_{i:03d}", "0.01") for i in range(100)]
        results = await asyncio.gather(
            *(
                service.apply_usage(facts[start : start + 30][::direction])
                for start in range(0, 100, 10)
                for service, direction in ((world.credits, 1), (other, -1))
            )
        )
    finally:
        await other_engine.dispose()
    assert sum(r.count(Stored.NEW) for r in results) == 100
    account = await world.audit("team_a")
    assert (account.balance, account.total_used) == (D(49), D(1))
