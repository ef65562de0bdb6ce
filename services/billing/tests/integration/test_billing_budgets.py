"""Budgets on a real database: caps per team, project and key, enforced by the reservation
(worst case clamped, concurrent holds never past the cap), spend counted from the charged cost
(BYOK costs 0), UTC day and month periods with an injectable clock, activity events; and
operator adjustments that never take the balance below zero unless allowed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate.events.v1 import activity_pb2
from tollgate_billing.budgets.repository import BudgetRepository
from tollgate_billing.budgets.service import BudgetService
from tollgate_billing.errors import BalanceLimit, BudgetExceeded, BudgetNotFound
from tollgate_billing.ledger.account import EntryKind
from tollgate_billing.ledger.repository import LedgerRepository
from tollgate_billing.ledger.service import CreditsService
from tollgate_billing.ledger.view import Requester
from tollgate_common.errors import InvalidArgument

from .support import QUOTE, Clock, Facts, generation

D = Decimal
KEY = Requester(project_id="prj_1", key_id="key_1")
OTHER_KEY = Requester(project_id="prj_2", key_id="key_2")


class Budgets:
    def __init__(self, engine: AsyncEngine) -> None:
        self.clock = Clock()
        self.clock.now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
        self.facts = Facts()
        self.engine = engine
        self.ledger = LedgerRepository(engine)
        self.restart()

    def restart(self) -> None:
        """A new process over the same database: an empty cache."""
        repo = BudgetRepository(self.engine)
        self.credits = CreditsService(self.ledger, self.facts, self.clock, budgets=repo)
        self.budgets = BudgetService(repo, self.credits, self.facts, self.clock)

    def types(self) -> list[str]:
        return [activity_pb2.ActivityRecorded.FromString(f.payload).type for f in self.facts.facts]


@pytest.fixture
async def world(engine: AsyncEngine) -> Budgets:
    w = Budgets(engine)
    await w.credits.top_up("team_a", "100", "seed", "user", "u")
    return w


async def test_a_key_budget_clamps_then_refuses_naming_the_budget(world: Budgets) -> None:
    status, created = await world.budgets.put(
        "team_a", "key", "key_1", "1.00", "day", True, "user_owner"
    )
    assert created and status.spent == 0
    first = (
        await world.credits.reserve("team_a", "gen_1", QUOTE, requester=KEY)
    ).reservation  # 0.5 of 1.00
    second = (await world.credits.reserve("team_a", "gen_2", QUOTE, requester=KEY)).reservation
    assert (first.reserved, second.reserved) == (D("0.5"), D("0.5"))
    with pytest.raises(BudgetExceeded) as refused:
        await world.credits.reserve("team_a", "gen_3", QUOTE, requester=KEY)
    assert "key key_1 budget ($1.00 per day)" in refused.value.message
    # Its money is held by generations in flight, not spent: the client is told to wait.
    assert refused.value.metadata == {"code": "in_flight_credit_exhausted", "retry_after": "1"}
    # Another key of the team is not held back by it.
    assert (
        await world.credits.reserve("team_a", "gen_4", QUOTE, requester=OTHER_KEY)
    ).reservation.reserved == D("0.5")

    # gen_1 cost 0.2: 0.3 left under the cap minus 0.5 held by gen_2 → 0.3 covers 50 tokens.
    await world.credits.apply_usage([generation("gen_1", "0.2", created_at=world.clock.now)])
    clamped = (await world.credits.reserve("team_a", "gen_5", QUOTE, requester=KEY)).reservation
    assert (clamped.reserved, clamped.max_output_tokens) == (D("0.3"), 50)
    [listed] = await world.budgets.list("team_a")
    assert listed.spent == D("0.2")
    assert listed.period_start == datetime(2026, 3, 10, tzinfo=UTC)


async def test_concurrent_reservations_never_pass_the_cap(world: Budgets) -> None:
    await world.budgets.put("team_a", "project", "prj_1", "2.75", "month", True, "u")

    async def one(i: int) -> Decimal:
        try:
            return (
                await world.credits.reserve("team_a", f"gen_{i}", QUOTE, requester=KEY)
            ).reservation.reserved
        except BudgetExceeded:
            return D(0)

    held = [r for r in await asyncio.gather(*(one(i) for i in range(200))) if r]
    assert sorted(held) == [D("0.248")] + [D("0.5")] * 5
    assert sum(held) <= D("2.75")


async def test_periods_are_utc_days_and_months(world: Budgets) -> None:
    await world.budgets.put("team_a", "team", "team_a", "0.50", "day", True, "u")
    await world.budgets.put("team_a", "key", "key_1", "0.60", "month", True, "u")
    await world.credits.reserve("team_a", "gen_1", QUOTE, requester=KEY)
    await world.credits.apply_usage([generation("gen_1", "0.5", created_at=world.clock.now)])
    with pytest.raises(BudgetExceeded, match="team budget") as used_up:
        await world.credits.reserve("team_a", "gen_2", QUOTE, requester=KEY)
    assert used_up.value.metadata == {}  # spent, not in flight: no use waiting

    world.clock.now = datetime(2026, 3, 11, 0, 0, 1, tzinfo=UTC)  # a new UTC day
    with pytest.raises(BudgetExceeded, match="key key_1 budget"):  # 0.1 left this month
        await world.credits.reserve("team_a", "gen_3", QUOTE, requester=KEY)
    world.restart()  # read back from the database: the same figures
    with pytest.raises(BudgetExceeded, match="key key_1 budget"):
        await world.credits.reserve("team_a", "gen_3", QUOTE, requester=KEY)

    world.clock.now = datetime(2026, 4, 1, tzinfo=UTC)  # a new month
    assert (
        await world.credits.reserve("team_a", "gen_4", QUOTE, requester=KEY)
    ).reservation.reserved == D("0.5")


async def test_byok_generations_cost_the_budget_nothing(world: Budgets) -> None:
    await world.budgets.put("team_a", "team", "team_a", "0.50", "day", True, "u")
    byok = generation("gen_b", "0", credential_type="byok", created_at=world.clock.now)
    await world.credits.apply_usage([byok])
    assert (
        await world.credits.reserve("team_a", "gen_1", QUOTE, requester=KEY)
    ).reservation.reserved == D("0.5")


async def test_a_soft_budget_refuses_only_once_reached(world: Budgets) -> None:
    await world.budgets.put("team_a", "team", "team_a", "0.30", "day", False, "u")
    # Not clamped: a soft cap lets the request that crosses it complete.
    assert (
        await world.credits.reserve("team_a", "gen_1", QUOTE, requester=KEY)
    ).reservation.reserved == D("0.5")
    with pytest.raises(BudgetExceeded):
        await world.credits.reserve("team_a", "gen_2", QUOTE, requester=KEY)


async def test_set_replace_delete_and_their_activity(world: Budgets) -> None:
    _, created = await world.budgets.put("team_a", "project", "prj_1", "5", "day", True, "u")
    status, created_again = await world.budgets.put(
        "team_a", "project", "prj_1", "7.5", "month", True, "u"
    )
    assert created and not created_again
    assert (status.budget.amount, status.budget.period.value) == (D("7.5"), "month")
    await world.budgets.delete("team_a", "project", "prj_1", "u")
    assert await world.budgets.list("team_a") == []
    with pytest.raises(BudgetNotFound):
        await world.budgets.delete("team_a", "project", "prj_1", "u")
    with pytest.raises(BudgetNotFound):  # a team budget names the caller's own team only
        await world.budgets.put("team_a", "team", "team_b", "5", "day", True, "u")
    assert world.types()[-3:] == ["spend-created", "spend-updated", "spend-deleted"]
    for scope, amount, period in (
        ("org", "5", "day"),
        ("key", "0", "day"),
        ("key", "1.001", "day"),
        ("key", "5", "week"),
    ):
        with pytest.raises(InvalidArgument):
            await world.budgets.put("team_a", scope, "key_1", amount, period, True, "u")
    assert await world.budgets.list("team_a") == []
    # Deleting lifts the cap at once.
    await world.credits.reserve("team_a", "gen_1", QUOTE, requester=KEY)


async def test_adjustments_never_go_below_zero_unless_allowed(world: Budgets) -> None:
    credits = world.credits
    account = await credits.adjust(
        "team_a", D("-40"), "k1", EntryKind.ADJUSTMENT, "u", reason="correction"
    )
    assert account.balance == D(60)
    with pytest.raises(BalanceLimit):
        await credits.adjust("team_a", D("-61"), "k2", EntryKind.ADJUSTMENT, "u", reason="x")
    assert (await credits.credits("team_a")).balance == D(60)
    account = await credits.adjust(
        "team_a", D("-61"), "k2", EntryKind.ADJUSTMENT, "u", reason="x", allow_negative=True
    )
    assert account.balance == D(-1)
    refunded = await credits.adjust("team_a", D("3"), "r1", EntryKind.REFUND, "u", reason="r")
    again = await credits.adjust("team_a", D("3"), "r1", EntryKind.REFUND, "u", reason="r")
    assert refunded.balance == again.balance == D(2)
    last = activity_pb2.ActivityRecorded.FromString(world.facts.facts[-1].payload)
    assert (last.type, last.details["reason"]) == ("credits-adjusted", "r")


async def test_a_period_later_than_the_budgets_start_is_counted_in_its_own(
    world: Budgets,
) -> None:
    await world.budgets.put("team_a", "team", "team_a", "1", "day", True, "u")
    tomorrow = world.clock.now + timedelta(days=1)
    await world.credits.reserve("team_a", "gen_1", QUOTE, requester=KEY)
    await world.credits.apply_usage([generation("gen_t", "0.9", created_at=tomorrow)])
    assert (
        await world.credits.reserve("team_a", "gen_2", QUOTE, requester=KEY)
    ).reservation.reserved == D("0.5")
    world.clock.now = tomorrow
    with pytest.raises(BudgetExceeded):
        await world.credits.reserve("team_a", "gen_3", QUOTE, requester=KEY)


async def test_what_is_left_is_capped_by_the_budgets_that_apply(world: Budgets) -> None:
    await world.budgets.put("team_a", "key", "key_1", "2", "day", True, "u")
    await world.credits.reserve("team_a", "gen_1", QUOTE, requester=KEY)  # holds 0.5
    assert await world.credits.available("team_a", KEY) == D(
        "1.5"
    )  # the router's last-known figure
    assert await world.credits.available("team_a", OTHER_KEY) == D("99.5")


async def test_a_lease_is_never_bigger_than_the_budgets_leave(world: Budgets) -> None:
    await world.budgets.put("team_a", "key", "key_1", "1.5", "day", True, "u")
    # Plenty of balance: a key without a budget gets the lease it asks for.
    free = (
        await world.credits.reserve("team_a", "lease_2", QUOTE, D(5), requester=OTHER_KEY)
    ).reservation
    assert free.reserved == D(5)
    # key_1's budget leaves 1.5, under 4 worst cases of 0.5: no lease, its own worst case.
    capped = (
        await world.credits.reserve("team_a", "lease_1", QUOTE, D(5), requester=KEY)
    ).reservation
    assert capped.reserved == D("0.5")
    await world.budgets.put("team_a", "key", "key_1", "6", "day", True, "u")
    widened = (
        await world.credits.reserve("team_a", "lease_3", QUOTE, D(5), requester=KEY)
    ).reservation
    assert widened.reserved == D("2.75")  # half of the 5.5 its budget has left
    # The lease counts in the budget until its usage facts settle it (0.5 + 2.75 held).
    assert await world.credits.available("team_a", KEY) == D(6) - D("3.25")
    await world.credits.apply_usage(
        [
            generation(
                "gen_1", "0.25", created_at=world.clock.now, project_id="prj_1", hold_id="lease_3"
            )
        ]
    )
    assert await world.credits.available("team_a", KEY) == D(6) - D("3.25")  # held → spent
    [status] = await world.budgets.list("team_a")
    assert status.spent == D("0.25")
