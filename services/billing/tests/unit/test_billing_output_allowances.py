"""Output allowances: a team that could pay a few whole worst cases is held for them; below
that, each generation is held for (and capped at) its output allowance, in leases too, so a
team near the end of its money is served at concurrency instead of refused."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from tollgate_billing.errors import InsufficientFunds
from tollgate_billing.ledger.account import Account
from tollgate_billing.ledger.view import BalanceView, Quote

D = Decimal
# Claude Sonnet 4 with no limit from the caller: 64,000 output tokens at $15/M, $0.9603 at worst.
SONNET = Quote(100, 0, 64_000, D("0.000003"), D("0.000015"), output_allowance=4096)
PROMPT = 100 * D("0.000003")
WHOLE = PROMPT + 64_000 * D("0.000015")
ALLOWED = PROMPT + 4096 * D("0.000015")


def _view(balance: str) -> BalanceView:
    view = BalanceView()
    view.put(Account("team_a", balance=D(balance)))
    return view


def test_a_team_that_could_pay_four_whole_worst_cases_is_held_for_the_whole_window() -> None:
    view = _view("20")
    held = view.reserve("team_a", "g1", SONNET)
    assert (held.reserved, held.max_output_tokens, held.output_allowance) == (WHOLE, 0, 0)


def test_under_that_each_generation_is_held_for_its_allowance() -> None:
    view = _view("3")  # 3.1 whole worst cases
    held = view.reserve("team_a", "g1", SONNET)
    assert (held.reserved, held.max_output_tokens, held.output_allowance) == (ALLOWED, 0, 4096)
    # So where three generations could have run at once, $3 runs forty-eight.
    for n in range(2, 49):
        assert view.reserve("team_a", f"g{n}", SONNET).output_allowance == 4096
    assert view.available("team_a") == D("3") - 48 * ALLOWED


def test_a_lease_under_pressure_carries_the_allowance_for_every_draw() -> None:
    view = _view("3")
    lease = view.reserve("team_a", "lease_1", SONNET, lease=64 * 2 * WHOLE)
    # Half of what is available, each draw from it holding the prompt and 4,096 tokens.
    assert (lease.reserved, lease.max_output_tokens, lease.output_allowance) == (D("1.5"), 0, 4096)


def test_a_limit_within_the_allowance_is_the_callers_own() -> None:
    view = _view("0.5")
    short = replace(SONNET, max_output_tokens=1000)
    held = view.reserve("team_a", "g1", short)
    assert (held.reserved, held.max_output_tokens, held.output_allowance) == (
        PROMPT + 1000 * D("0.000015"),
        0,
        0,
    )


def test_a_limit_the_team_could_pay_four_times_is_honoured_whole() -> None:
    view = _view("3")
    asked = replace(SONNET, max_output_tokens=20_000)  # $0.3003: ten of them fit in $3
    held = view.reserve("team_a", "g1", asked)
    assert (held.reserved, held.output_allowance) == (PROMPT + 20_000 * D("0.000015"), 0)


def test_at_the_end_of_the_money_the_allowance_is_clamped_then_refused() -> None:
    view = _view("0.05")  # less than one allowance
    held = view.reserve("team_a", "g1", SONNET)
    assert held.reserved <= D("0.05") and 0 < held.max_output_tokens < 4096
    assert held.output_allowance == 4096
    with pytest.raises(InsufficientFunds):
        view.reserve("team_a", "g2", SONNET)


def test_a_router_that_sends_no_allowance_is_held_for_the_whole_window_as_before() -> None:
    view = _view("3")
    old = replace(SONNET, output_allowance=0)
    held = view.reserve("team_a", "g1", old)
    assert (held.reserved, held.output_allowance) == (WHOLE, 0)


def test_in_a_burst_whole_windows_stop_when_what_is_left_matches_those_running() -> None:
    # $20 pays for 20 whole windows; 64 arriving at once would leave 44 refused. Whole windows
    # go while what is left covers half as many as are already held, then allowances.
    view = _view("20")
    held = [view.reserve("team_a", f"g{n}", SONNET) for n in range(64)]
    whole = [h for h in held if h.output_allowance == 0]
    assert len(whole) == 14 and all(h.reserved == WHOLE for h in whole)
    assert all(h.output_allowance == 4096 for h in held[14:])
    assert view.available("team_a") == D("20") - 14 * WHOLE - 50 * ALLOWED


def test_generations_running_on_a_lease_count_as_running() -> None:
    # One lease is one hold, however many generations draw on it. $20 pays for 20 whole
    # windows: a lease asked for while the router says 64 of the team's generations run or
    # start there is held for allowances (half of them at whole windows would not leave as
    # much again); 40 leave room, as does a router that says nothing (as before).
    for said, allowance in ((0, 0), (40, 0), (64, 4096)):
        view = _view("20")
        lease = view.reserve(
            "team_a",
            "lease_1",
            replace(SONNET, running_generations=said),
            lease=40 * 2 * WHOLE,
        )
        assert lease.output_allowance == allowance
    # What the view counts itself still counts when the router says fewer.
    view = _view("20")
    held = [
        view.reserve("team_a", f"g{n}", replace(SONNET, running_generations=1)) for n in range(64)
    ]
    assert sum(h.output_allowance == 0 for h in held) == 14
