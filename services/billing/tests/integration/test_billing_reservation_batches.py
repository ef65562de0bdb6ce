"""Reservations of one team that arrive together, on a real database (SQLite; PostgreSQL when
configured): decided in a few transactions instead of one each, in turn, so the cap is exact
as when they come one by one; a caller that leaves before its batch runs holds nothing, nor
does one that leaves while it runs (its hold is given back); and what a reservation knows of
the holds before it (how many run, what ended ones still owe) comes from the database when
the team has no budgets too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_billing.budgets.repository import BudgetRepository
from tollgate_billing.budgets.service import BudgetService
from tollgate_billing.errors import BudgetExceeded, InsufficientFunds
from tollgate_billing.ledger.repository import LedgerRepository
from tollgate_billing.ledger.service import CreditsService, Granted
from tollgate_billing.ledger.view import Quote, Requester
from tollgate_billing.models import balances, holds

from .support import QUOTE, Clock, Facts, generation

D = Decimal
KEY = Requester(project_id="prj_1", key_id="key_1")
# Claude Sonnet 4 with no limit from the caller: 64,000 output tokens at $15/M, with the
# router's output allowance of 4,096.
SONNET = Quote(100, 0, 64_000, D("0.000003"), D("0.000015"), output_allowance=4096)
WHOLE = 100 * D("0.000003") + 64_000 * D("0.000015")
ALLOWED = 100 * D("0.000003") + 4096 * D("0.000015")


class World:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.clock = Clock()
        self.ledger = LedgerRepository(engine)
        self.budgets = BudgetRepository(engine)
        self.credits = self.restart()

    def restart(self) -> CreditsService:
        """A new billing process over the same database (nothing kept in memory)."""
        self.credits = CreditsService(self.ledger, Facts(), self.clock, budgets=self.budgets)
        return self.credits

    async def held(self, team_id: str = "team_a") -> tuple[Decimal, list[str]]:
        """The balance row's ``held``, and the ids of the team's live holds (whose amounts
        it must sum to)."""
        async with self.engine.connect() as conn:
            row = select(balances.c.held).where(balances.c.team_id == team_id)
            held = (await conn.execute(row)).scalar_one()
            live = select(holds.c.hold_id, holds.c.held).where(
                holds.c.team_id == team_id, holds.c.state == "live"
            )
            rows = list(await conn.execute(live))
        assert held == sum((amount for _, amount in rows), D(0))
        return held, sorted(hold_id for hold_id, _ in rows)


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    world = World(engine)
    await world.credits.top_up("team_a", "100", "seed", "user", "u")
    return world


@contextmanager
def transactions(engine: AsyncEngine) -> Iterator[list[int]]:
    """Counts the transactions begun on ``engine`` meanwhile (one element each)."""
    begun: list[int] = []

    def count(_conn: Any) -> None:
        begun.append(1)

    event.listen(engine.sync_engine, "begin", count)
    try:
        yield begun
    finally:
        event.remove(engine.sync_engine, "begin", count)


async def _asks(
    credits: CreditsService, count: int, quote: Quote = QUOTE
) -> list[Granted | BaseException]:
    return await asyncio.gather(
        *(credits.reserve("team_a", f"gen_{i}", quote, requester=KEY) for i in range(count)),
        return_exceptions=True,
    )


async def test_150_reservations_at_once_are_a_few_transactions_and_the_budget_is_exact(
    world: World,
) -> None:
    budgets = BudgetService(world.budgets, world.credits, Facts(), world.clock)
    await budgets.put("team_a", "key", "key_1", "5.00", "day", True, "user_owner")
    with transactions(world.engine) as begun:
        answers = await _asks(world.credits, 150)

    assert len(begun) < 15  # one per reservation without batches
    granted = [a for a in answers if isinstance(a, Granted)]
    refused = [a for a in answers if not isinstance(a, Granted)]
    # $5 pays ten worst cases of $0.50 exactly; the rest are refused naming the budget.
    assert [g.reservation.reserved for g in granted] == [D("0.5")] * 10
    assert len(refused) == 140 and all(isinstance(r, BudgetExceeded) for r in refused)
    # Each answer says what is left once the whole batch holds: what a router relies on when
    # billing cannot be reached next (its last-known figure), whichever answer it reads last.
    assert {g.available for g in granted} == {D(0)}
    held, live = await world.held()
    assert held == D(5) and len(live) == 10
    # A repeat of a granted id, in the next batch or the same one, answers the same hold.
    again = await asyncio.gather(*(world.restart().reserve("team_a", "gen_0", QUOTE) for _ in "ab"))
    assert [a.reservation.reserved for a in again] == [D("0.5")] * 2
    assert (await world.held())[0] == D(5)


async def test_a_repeat_within_one_batch_is_held_once(world: World) -> None:
    answers = await asyncio.gather(
        *(world.credits.reserve("team_a", "gen_same", QUOTE, requester=KEY) for _ in range(5))
    )
    assert {a.reservation.reserved for a in answers} == {D("0.5")}
    assert await world.held() == (D("0.5"), ["gen_same"])


async def test_a_caller_that_leaves_holds_nothing(world: World) -> None:
    """One caller leaves while its batch's transaction runs (its deadline passed): its hold
    is given back once the batch is written. Another leaves while it waits for the next
    batch: it is never decided. Those that stayed keep theirs."""
    callers: dict[str, asyncio.Task[Granted]] = {}

    def reserve(hold_id: str) -> None:
        callers[hold_id] = asyncio.ensure_future(
            world.credits.reserve("team_a", hold_id, QUOTE, requester=KEY)
        )

    def on_insert(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO HOLDS") and "late" not in callers:
            callers["leaves_running"].cancel()  # while its batch is being written
            reserve("late")  # waits for the next batch
            reserve("leaves_waiting")
            callers["leaves_waiting"].cancel()

    reserve("stays")
    reserve("leaves_running")
    event.listen(world.engine.sync_engine, "before_cursor_execute", on_insert)
    try:
        await asyncio.gather(*callers.values(), return_exceptions=True)
        await callers["late"]
    finally:
        event.remove(world.engine.sync_engine, "before_cursor_execute", on_insert)

    assert callers["leaves_running"].cancelled() and callers["leaves_waiting"].cancelled()
    assert (await callers["stays"]).reservation.reserved == D("0.5")
    assert await world.held() == (D(1), ["late", "stays"])


async def test_whole_windows_in_a_burst_count_the_holds_stored_before(engine: AsyncEngine) -> None:
    """A team without budgets, $20, Claude generations one after another each in a new
    process: whole windows go while what is left also covers half as many as are running (14 of
    them), then allowances: the count of running holds is read from the database."""
    world = World(engine)
    await world.credits.top_up("team_a", "20", "seed", "user", "u")
    held = [
        (await world.restart().reserve("team_a", f"gen_{n}", SONNET)).reservation for n in range(64)
    ]
    whole = [h for h in held if h.output_allowance == 0]
    assert len(whole) == 14 and all(h.reserved == WHOLE for h in whole)
    assert all(h.reserved == ALLOWED and h.output_allowance == 4096 for h in held[14:])
    assert (await world.held())[0] == 14 * WHOLE + 50 * ALLOWED


async def test_money_owed_by_ended_generations_is_spent_not_in_flight(world: World) -> None:
    """Without budgets too, a refusal tells waiting from topping up by what the holds read
    from the database owe: a lease given back whose usage facts are on their way is spent."""
    lease = await world.credits.reserve("team_a", "lease_1", QUOTE, D(50))
    assert lease.reservation.reserved == D(50)
    await world.credits.release("team_a", "lease_1", D(50))  # spent it all; facts on their way
    await world.credits.apply_usage([generation(f"gen_{i}", "10") for i in range(5)])
    with pytest.raises(InsufficientFunds) as out:
        await world.restart().reserve("team_a", "gen_next", QUOTE)
    assert out.value.metadata == {}  # out of credit once the facts arrive: no use waiting
