"""The ledger's pure rules: entries on an account, the free tier, top-up amounts, reservations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from tollgate_billing.domain import display, parse_top_up
from tollgate_billing.errors import InsufficientFunds
from tollgate_billing.ledger.account import (
    Account,
    EntryKind,
    FreeTier,
    Posting,
    apply,
    free_grant_due,
    with_free_tier,
)
from tollgate_billing.ledger.view import (
    DEFAULT_OUTPUT_RESERVE,
    BalanceView,
    Quote,
    quote_reservation,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
D = Decimal


def _grant(account: Account, at: datetime) -> Account:
    due = free_grant_due(account, at)
    assert due is not None
    account, posting = due
    return account if posting is None else apply(account, posting)


def test_the_first_request_grants_five_dollars() -> None:
    due = free_grant_due(Account("team_a"), T0)
    assert due is not None
    account, posting = due
    assert posting == Posting(EntryKind.FREE_GRANT, D("5.00"), "free:0")
    assert account.free_anchor == T0
    assert apply(account, posting).balance == D("5.00")


def test_no_second_grant_within_thirty_days() -> None:
    account = _grant(Account("team_a"), T0)
    assert free_grant_due(account, T0 + timedelta(days=29, hours=23)) is None


def test_unused_free_credit_is_topped_up_not_added() -> None:
    account = _grant(Account("team_a"), T0)
    account = apply(account, Posting(EntryKind.USAGE, D("-1.25"), "usage:gen_1"))
    due = free_grant_due(account, T0 + timedelta(days=30))
    assert due is not None
    advanced, posting = due
    assert posting is not None and posting.amount == D("1.25")
    assert posting.idempotency_key == "free:1"
    assert apply(advanced, posting).balance == D("5.00")


def test_an_untouched_free_balance_advances_the_period_without_an_entry() -> None:
    account = _grant(Account("team_a"), T0)
    due = free_grant_due(account, T0 + timedelta(days=31))
    assert due is not None
    advanced, posting = due
    assert posting is None and advanced.free_period == 1 and advanced.balance == D(5)


def test_periods_keep_the_first_requests_cadence() -> None:
    account = _grant(Account("team_a"), T0)
    due = free_grant_due(account, T0 + timedelta(days=75))  # idle for two periods
    assert due is not None and due[0].free_period == 2
    assert free_grant_due(due[0], T0 + timedelta(days=89)) is None
    assert free_grant_due(due[0], T0 + timedelta(days=90)) is not None


def test_a_team_that_purchased_gets_no_more_free_credit() -> None:
    account = _grant(Account("team_a"), T0)
    account = apply(account, Posting(EntryKind.PURCHASE, D("10"), "purchase:x"))
    assert account.purchased and account.balance == D(15)
    assert free_grant_due(account, T0 + timedelta(days=60)) is None


def test_a_team_without_the_free_tier_is_never_granted_any() -> None:
    declined = with_free_tier(Account("team_a"), eligible=False)
    for days in (0, 30, 3650):
        assert free_grant_due(declined, T0 + timedelta(days=days)) is None
    assert with_free_tier(declined, eligible=False) == declined  # a repeat changes nothing
    # Made eligible again, it starts as a new team does.
    assert with_free_tier(declined, eligible=True) == Account("team_a")
    granted = _grant(Account("team_a"), T0)
    assert with_free_tier(granted, eligible=True) == granted
    assert free_grant_due(with_free_tier(granted, eligible=False), T0 + timedelta(days=30)) is None


def test_the_operator_sets_the_free_tiers_amount_and_period() -> None:
    tier = FreeTier(D("2.50"), timedelta(days=7))
    due = free_grant_due(Account("team_a"), T0, tier)
    assert due is not None and due[1] == Posting(EntryKind.FREE_GRANT, D("2.50"), "free:0")
    account = apply(due[0], due[1])
    assert free_grant_due(account, T0 + timedelta(days=6), tier) is None
    assert free_grant_due(account, T0 + timedelta(days=7), tier) is not None
    none = free_grant_due(Account("team_a"), T0, FreeTier(D(0)))
    assert none is not None and none[1] is None  # amount 0: no free tier at all


def test_usage_is_paid_from_the_free_part_first() -> None:
    account = apply(_grant(Account("team_a"), T0), Posting(EntryKind.PURCHASE, D(10), "p"))
    account = apply(account, Posting(EntryKind.USAGE, D("-6"), "usage:gen_1"))
    assert (account.balance, account.free_balance, account.total_used) == (D(9), D(0), D(6))


@pytest.mark.parametrize(
    ("text", "value"),
    [("10", D(10)), ("10.5", D("10.5")), ("0.01", D("0.01")), ("7.000", D(7)), ("1e2", D(100))],
)
def test_top_up_amounts_accepted(text: str, value: Decimal) -> None:
    assert parse_top_up(text) == value


@pytest.mark.parametrize(
    "text", ["", "0", "-5", "0.001", "1.234", "abc", "NaN", "Infinity", "1e9", " "]
)
def test_top_up_amounts_refused(text: str) -> None:
    assert parse_top_up(text) is None


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(D(5), "5.00"), (D("95.5"), "95.50"), (D("4.9999875"), "4.9999875"), (D(0), "0.00")],
)
def test_display(amount: Decimal, shown: str) -> None:
    assert display(amount) == shown


def _quote(max_out: int = 0, model_max: int = 1000) -> Quote:
    return Quote(
        input_tokens=100,
        max_output_tokens=max_out,
        model_max_output_tokens=model_max,
        input_price=D("0.001"),
        output_price=D("0.01"),
    )


def test_a_reservation_holds_prompt_plus_max_output() -> None:
    reservation = quote_reservation(D(100), _quote(max_out=50))
    assert reservation.reserved == D("0.1") + D("0.5")
    assert reservation.max_output_tokens == 0  # no clamp needed


def test_output_is_clamped_to_what_the_team_can_afford() -> None:
    reservation = quote_reservation(D("1.105"), _quote())  # 0.1 prompt + 100 tokens
    assert reservation.max_output_tokens == 100
    assert reservation.reserved == D("1.1")


def test_without_a_limit_the_default_output_is_held() -> None:
    reservation = quote_reservation(D(1000), _quote(model_max=0))
    assert reservation.reserved == D("0.1") + DEFAULT_OUTPUT_RESERVE * D("0.01")


@pytest.mark.parametrize("available", [D(0), D("-1"), D("0.1"), D("0.109")])
def test_nothing_left_is_insufficient_funds(available: Decimal) -> None:
    with pytest.raises(InsufficientFunds):
        quote_reservation(available, _quote())


def test_holds_add_up_and_do_not_expire_on_time() -> None:
    view = BalanceView()
    view.put(Account("team_a", balance=D("1.2")))
    view.reserve("team_a", "gen_1", _quote(max_out=50))  # 0.6
    assert view.available("team_a") == D("0.6")
    assert view.reserve("team_a", "gen_1", _quote(max_out=50)).reserved == D("0.6")  # a repeat
    view.reserve("team_a", "gen_2", _quote(max_out=50))
    with pytest.raises(InsufficientFunds):
        view.reserve("team_a", "gen_3", _quote(max_out=50))
    view.release("team_a", "gen_1")
    assert view.available("team_a") == D("0.6")
    assert view.holds("team_a") == 1  # only the expiry sweep lets gen_2 go, once facts are in
    view.release("team_a", "gen_2")
    assert view.available("team_a") == D("1.2")
    assert view.holds("team_a") == 0
