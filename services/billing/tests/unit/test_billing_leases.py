"""Credit leases in the balance cache: when one is granted and how big, how usage facts and the
router's give-back move money out of it, and that no order of events lets a team spend more
than it has."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import pytest
from tollgate_billing.errors import InsufficientFunds
from tollgate_billing.ledger.account import Account
from tollgate_billing.ledger.view import BalanceView, LeasePolicy, Quote

D = Decimal
# Worst case: 10 input tokens at 0.0001 + 100 output tokens at 0.001 = 0.101.
QUOTE = Quote(10, 100, 0, D("0.0001"), D("0.001"))
WORST = D("0.101")


def _view(balance: str, policy: LeasePolicy | None = None) -> BalanceView:
    view = BalanceView(policy)
    view.put(Account("team_a", balance=D(balance)))
    return view


def _charge(view: BalanceView, cost: Decimal, hold_id: str) -> None:
    """What the usage consumer does for a fact naming ``hold_id``: debit, then settle."""
    account = view.account("team_a")
    assert account is not None
    view.put(replace(account, balance=account.balance - cost))
    view.settle("team_a", hold_id, cost, lease=True)


def test_a_lease_is_granted_when_the_team_has_plenty_and_capped_at_a_share() -> None:
    view = _view("100")  # ~990 worst cases
    granted = view.reserve("team_a", "lease_1", QUOTE, lease=D("5"))
    assert granted.reserved == D("5") and granted.max_output_tokens == 0
    assert view.available("team_a") == D("95")
    # At most half of what is left: 47.5 of 95.
    assert view.reserve("team_a", "lease_2", QUOTE, lease=D("50")).reserved == D("47.5")


def test_a_20_dollar_team_gets_a_lease_for_an_expensive_model() -> None:
    # claude-sonnet-4: 64,000 output tokens at $15/M, a $0.96 worst case; $20 pays for 20.
    sonnet = Quote(100, 0, 64_000, D("0.000003"), D("0.000015"))
    worst = 100 * D("0.000003") + 64_000 * D("0.000015")
    view = _view("20")
    # The router asks for twice the worst cases its generations draw: one running, 2 x 0.96.
    lease = view.reserve("team_a", "lease_1", sonnet, lease=2 * worst)
    assert lease.reserved == 2 * worst and lease.max_output_tokens == 0
    # 64 in flight would want 64 x 0.96 x 2: no more than half of what is left.
    big = view.reserve("team_a", "lease_2", sonnet, lease=128 * worst)
    assert big.reserved == (D("20") - 2 * worst) / 2


def test_near_the_end_of_a_balance_the_hold_is_the_worst_case_alone() -> None:
    view = _view("0.4")  # under 4 worst cases
    assert view.reserve("team_a", "lease_1", QUOTE, lease=D("1")).reserved == WORST
    view = _view("0.05")  # not even one: clamped, never widened
    clamped = view.reserve("team_a", "lease_1", QUOTE, lease=D("1"))
    assert clamped.max_output_tokens == 49 and clamped.reserved == D("0.05")
    with pytest.raises(InsufficientFunds):
        view.reserve("team_a", "lease_2", QUOTE, lease=D("1"))


def test_usage_facts_move_money_from_the_lease_to_the_balance() -> None:
    view = _view("100")
    view.reserve("team_a", "lease_1", QUOTE, lease=D("5"))
    _charge(view, D("0.3"), "lease_1")
    _charge(view, D("0.2"), "lease_1")
    # Balance 99.5, still held 4.5: what is available has not moved.
    assert view.available("team_a") == D("95")
    assert view.holds("team_a") == 1


def test_a_lease_given_back_holds_only_what_its_facts_have_not_debited() -> None:
    view = _view("100")
    view.reserve("team_a", "lease_1", QUOTE, lease=D("5"))
    _charge(view, D("0.3"), "lease_1")
    # The router spent 0.7 in all: one fact of 0.4 is still on its way.
    view.release("team_a", "lease_1", spent=D("0.7"))
    assert view.available("team_a") == D("99.7") - D("0.4")
    _charge(view, D("0.4"), "lease_1")
    assert view.available("team_a") == D("99.3")
    assert view.holds("team_a") == 0  # nothing left to wait for: the hold is gone


def test_a_lease_shrunk_in_use_holds_what_its_running_generations_may_cost() -> None:
    view = _view("10")
    view.reserve("team_a", "lease_1", QUOTE, lease=D("5"))
    _charge(view, D("0.3"), "lease_1")
    # Retired with 0.5 spent (0.2 of it not yet a fact) and two worst cases running.
    view.release("team_a", "lease_1", spent=D("0.5") + 2 * WORST, in_use=True)
    assert view.available("team_a") == D("9.7") - D("0.2") - 2 * WORST
    hold = view.hold("team_a", "lease_1")
    assert hold is not None and not hold.returned  # still waits for its router
    _charge(view, D("0.2"), "lease_1")
    _charge(view, D("0.05"), "lease_1")  # a running generation ended
    # The give-back (the last one ended at 0.01) may come before or after the shrink.
    view.release("team_a", "lease_1", spent=D("0.56"))
    view.release("team_a", "lease_1", spent=D("0.5") + 2 * WORST, in_use=True)
    assert view.available("team_a") == D("9.45") - D("0.01")
    _charge(view, D("0.01"), "lease_1")
    assert view.holds("team_a") == 0 and view.available("team_a") == D("9.44")


def test_a_fact_after_its_lease_expired_or_went_is_only_a_debit() -> None:
    view = _view("10")
    view.reserve("team_a", "lease_1", QUOTE, lease=D("1"))
    view.release("team_a", "lease_1", spent=D("0"))
    _charge(view, D("0.5"), "lease_1")
    assert view.available("team_a") == D("9.5")


@pytest.mark.parametrize("seed", range(20))
def test_no_interleaving_of_draws_facts_and_give_backs_overdraws(seed: int) -> None:
    """A router's view of its leases (drawn worst cases, settled costs) against billing's: the
    committed balance never goes below zero, whatever the order facts arrive in."""
    rng = random.Random(seed)
    view = _view("20", LeasePolicy(min_worst_cases=5, share=D("0.5")))
    leases: dict[str, dict[str, Decimal]] = {}  # hold id -> granted, drawn, spent
    current: str | None = None
    in_flight: list[tuple[str, Decimal]] = []  # (lease, worst) of generations running
    facts: list[tuple[str, Decimal]] = []  # (lease, cost) published, not yet consumed
    retired: set[str] = set()
    served = 0
    for step in range(3000):
        action = rng.random()
        if action < 0.45:  # a new generation
            lease = leases.get(current) if current else None
            if lease is None or lease["granted"] - lease["drawn"] - lease["spent"] < WORST:
                if current:  # retired: shrunk to what its running generations may cost
                    retired.add(current)
                    needed = leases[current]["spent"] + leases[current]["drawn"]
                    view.release("team_a", current, spent=needed, in_use=True)
                try:
                    granted = view.reserve("team_a", f"l{step}", QUOTE, lease=D("3")).reserved
                except InsufficientFunds:
                    current = None
                    continue
                if granted < WORST:
                    continue  # clamped: a real router would cut max_tokens; skip it here
                current = f"l{step}"
                leases[current] = {"granted": granted, "drawn": D(0), "spent": D(0)}
            assert current is not None
            leases[current]["drawn"] += WORST
            in_flight.append((current, WORST))
            served += 1
        elif action < 0.75 and in_flight:  # one ends: its real cost is at most the worst
            hold, worst = in_flight.pop(rng.randrange(len(in_flight)))
            cost = (worst * D(rng.randint(0, 100)) / 100).quantize(D("0.000001"))
            leases[hold]["drawn"] -= worst
            leases[hold]["spent"] += cost
            facts.append((hold, cost))
        elif facts:  # billing consumes a fact (in any order)
            hold, cost = facts.pop(rng.randrange(len(facts)))
            _charge(view, cost, hold)
        for hold in list(retired):  # give back retired leases with nothing in flight
            if all(h != hold for h, _ in in_flight):
                view.release("team_a", hold, spent=leases[hold]["spent"])
                retired.discard(hold)
        account = view.account("team_a")
        assert account is not None and account.balance >= 0
        assert view.available("team_a") >= 0
    assert served > 100


def test_a_refusal_says_when_money_held_in_flight_is_the_reason() -> None:
    view = _view("0.203")  # two worst cases of 0.101, and not the prompt of a third
    view.reserve("team_a", "g1", QUOTE)
    view.reserve("team_a", "g2", QUOTE)
    with pytest.raises(InsufficientFunds) as held:
        view.reserve("team_a", "g3", QUOTE)
    assert held.value.metadata == {"code": "in_flight_credit_exhausted", "retry_after": "1"}
    # Once the two settle at their cost the balance itself is short: out of credit, no wait.
    for hold_id in ("g1", "g2"):
        _charge(view, WORST, hold_id)
    with pytest.raises(InsufficientFunds) as out:
        view.reserve("team_a", "g4", QUOTE)
    assert out.value.metadata == {}


def test_money_a_returned_lease_keeps_for_facts_on_their_way_is_spent_not_in_flight() -> None:
    view = _view("0.45", LeasePolicy(share=D("1")))
    assert view.reserve("team_a", "lease_1", QUOTE, lease=D("0.4495")).reserved == D("0.4495")
    # Its router gave it back having spent all of it; the usage facts are on their way.
    view.release("team_a", "lease_1", spent=D("0.4495"))
    with pytest.raises(InsufficientFunds) as out:
        view.reserve("team_a", "g2", QUOTE)
    assert out.value.metadata == {}  # no use waiting: once they arrive 0.0005 is left
