"""A team's committed account plus its holds and budgets, and the rules that decide a hold.

The ledger service reads a team's account, its live holds and its budgets under the team's row
lock (:meth:`tollgate_billing.ledger.repository.LedgerRepository.reserve`) into a
:class:`BalanceView` and decides there, so two billing processes on one database never hold more
than the balance or a budget between them, and a restarted billing forgets no hold.

A hold may be a *lease*: the router asks for more than one generation's worst case and draws
many generations from it without a round trip each (docs/billing.md, "Credit leases"). Each
usage fact that names the lease moves its cost from the hold to the balance; when the router
gives the lease back it says what its generations were charged in all, and the part their facts
have not yet debited stays held until they do. A lease retired while generations drawn from it
still run is shrunk to what they may still cost (:meth:`Hold.shrink`), so the money it no longer
needs is available at once. Leases are granted only while the team could pay a few worst cases
(``LeasePolicy.min_worst_cases``), and at most a share of what is available
(``LeasePolicy.share``): near the end of a balance every generation holds exactly its own worst
case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from tollgate_common.money import ZERO

from tollgate_billing.budgets.budget import BudgetState, applies
from tollgate_billing.errors import BudgetExceeded, InsufficientFunds
from tollgate_billing.ledger.account import Account

# Output tokens held for when neither the caller nor the catalog gives a limit.
DEFAULT_OUTPUT_RESERVE = 4096


@dataclass(frozen=True, slots=True)
class LeasePolicy:
    """A lease is granted only when the team could pay ``min_worst_cases`` worst cases of the
    asking generation, and it takes at most ``share`` of what is available.

    The router asks for a lease sized to its demand (the worst cases its generations in flight
    draw), and each draw takes its whole worst case, so a lease never lets a generation produce
    more than is held; what the rule guards is the money a lease keeps from everyone else.
    Within one router that money is never the reason for a clamp: before accepting a clamp or a
    refusal the router shrinks its leases of the team and asks again (docs/billing.md)."""

    min_worst_cases: int = 4
    share: Decimal = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class Quote:
    """What a generation may cost at worst, as the router describes it."""

    input_tokens: int
    max_output_tokens: int  # the caller's; 0 when none
    model_max_output_tokens: int  # the catalog's; 0 when unknown
    input_price: Decimal  # USD per token
    output_price: Decimal
    # The output tokens a generation of the model ordinarily needs (the router's figure); 0:
    # none. Under money pressure a hold pays for no more (:func:`pressed`), and then it is
    # also the limit: a quote :func:`pressed` left an allowance in is held for it.
    output_allowance: int = 0
    # The generations of the team the asking router has running or starting, this one
    # included (a lease is one hold for many of them); 0: not said.
    running_generations: int = 0

    def limit(self) -> int:
        """The output tokens the upstream request may produce."""
        return self.max_output_tokens or self.model_max_output_tokens or DEFAULT_OUTPUT_RESERVE

    def worst(self) -> Decimal:
        return self.input_tokens * self.input_price + self.limit() * self.output_price


@dataclass(frozen=True, slots=True)
class Reservation:
    reserved: Decimal
    max_output_tokens: int  # a clamp to send upstream; 0 when none is needed
    # Every generation drawn from the hold sends at most this many output tokens; 0: its own.
    output_allowance: int = 0


@dataclass(frozen=True, slots=True)
class Requester:
    """Whose generation it is, beyond the team: which project's and key's budgets apply."""

    project_id: str = ""
    key_id: str = ""


NOBODY = Requester()


@dataclass(slots=True)
class Hold:
    """A hold as it stands: what it still holds (``amount``), what the usage facts that named it
    have debited, whether its router gave it back (then it only waits for its facts)."""

    reservation: Reservation
    amount: Decimal  # still held: what was reserved less what usage facts have debited
    debited: Decimal = ZERO  # charged by the usage facts that named this hold
    returned: bool = False  # a lease given back: it only waits for its facts
    requester: Requester = NOBODY  # every generation drawn from it is of this project and key

    def give_back(self, spent: Decimal | None) -> bool:
        """The router gives it back having spent ``spent`` through it (None: nothing, a
        generation that reached no provider); True when nothing stays held. What the usage
        facts have not debited yet stays held until they do."""
        outstanding = ZERO if spent is None else spent - self.debited
        if outstanding <= 0:
            return True
        # Never more than it held: a give-back may overtake the shrink sent before it.
        self.amount, self.returned = min(self.amount, outstanding), True
        return False

    def shrink(self, spent: Decimal) -> None:
        """A lease its router retired while generations drawn from it still run, ``spent``
        being what they were charged plus the worst cases of those running: it holds no more
        than what its facts have not debited of that, and still waits for its give-back."""
        self.amount = max(ZERO, min(self.amount, spent - self.debited))

    def charge(self, cost: Decimal) -> bool:
        """A usage fact drawn from this lease charged ``cost``: the hold shrinks by as much.
        True when a lease given back has nothing left to wait for."""
        self.debited += cost
        self.amount = max(ZERO, self.amount - cost)
        return self.returned and self.amount == 0


@dataclass(frozen=True, slots=True)
class HoldTally:
    """What a reservation needs to know of a team's live holds when it does not read them one
    by one: how many may belong to generations still running (not given back), and what those
    given back still hold for generations that ended and whose usage facts are not applied."""

    running: int = 0
    owed: Decimal = ZERO


@dataclass(slots=True)
class _Team:
    account: Account
    holds: dict[str, Hold] = field(default_factory=dict)
    budgets: list[BudgetState] | None = None  # None: not loaded yet
    tally: HoldTally = field(
        default_factory=HoldTally
    )  # of the holds in ``account.held`` not in ``holds``

    def held(self) -> Decimal:
        """What the account's holds hold (``Account.held``) plus those held one by one."""
        return self.account.held + sum((hold.amount for hold in self.holds.values()), ZERO)

    def running(self) -> int:
        """Holds of generations that may still be running (not given back)."""
        return self.tally.running + sum(1 for hold in self.holds.values() if not hold.returned)

    def owed(self) -> Decimal:
        """What holds given back keep for generations that have ended but whose usage facts
        have not been applied yet: already spent, not in flight."""
        returned = (hold.amount for hold in self.holds.values() if hold.returned)
        return self.tally.owed + sum(returned, ZERO)

    def held_in(self, state: BudgetState, *, returned_only: bool = False) -> Decimal:
        """What the holds that count in ``state``'s budget hold (``returned_only``: those
        given back, whose generations have ended: already spent, not in flight)."""
        return sum(
            (
                hold.amount
                for hold in self.holds.values()
                if applies(state.budget, hold.requester.project_id, hold.requester.key_id)
                and (hold.returned or not returned_only)
            ),
            ZERO,
        )


def pressed(available: Decimal, quote: Quote, policy: LeasePolicy, running: int = 0) -> Quote:
    """``quote`` as held out of ``available``: its whole output limit while the team could pay
    ``policy.min_worst_cases`` worst cases (when a lease could be granted) and half as many as
    it has generations ``running``, else no more than its output allowance. So a team near the
    end of its money, or whose generations arrive in a burst, runs many ordinary generations at
    once instead of a few that may each write the model's whole window (whole windows take at
    most about two thirds of what is left); the output sent upstream never exceeds what is
    held."""
    allowance = quote.output_allowance
    if not allowance:
        return quote
    whole = quote.worst() * max(policy.min_worst_cases, -(-running // 2))
    if allowance >= quote.limit() or available >= whole:
        return replace(quote, output_allowance=0)
    return replace(quote, max_output_tokens=allowance)


def grant(available: Decimal, quote: Quote) -> Reservation | None:
    """The hold for ``quote`` out of ``available``; None when not even the prompt and one
    output token are covered. The output tokens are clamped to what is affordable."""
    input_cost = quote.input_tokens * quote.input_price
    limit = quote.limit()
    if quote.output_price > 0:
        spare = available - input_cost
        affordable = int((spare / quote.output_price).to_integral_value(ROUND_FLOOR))
    else:
        affordable = limit
    if available <= 0 or available < input_cost or affordable < 1:
        return None
    granted = min(limit, affordable)
    return Reservation(
        reserved=input_cost + granted * quote.output_price,
        max_output_tokens=granted if granted < limit else 0,
        output_allowance=quote.output_allowance,
    )


# The answer's ``code`` when the balance would pay but the team's generations in flight hold
# it, and the seconds after which to retry (a generation's hold goes when it settles).
IN_FLIGHT = "in_flight_credit_exhausted"
IN_FLIGHT_RETRY_SECONDS = "1"


def quote_reservation(
    available: Decimal, quote: Quote, balance: Decimal | None = None
) -> Reservation:
    """:func:`grant`, or InsufficientFunds: saying so (code :data:`IN_FLIGHT`, retry after a
    second) when ``balance`` (less what ended generations owe) would pay for it with nothing
    in flight."""
    reservation = grant(available, quote)
    if reservation is not None:
        return reservation
    if balance is not None and grant(balance, quote) is not None:
        raise InsufficientFunds(
            "Insufficient funds for now: the team's credit is held by its generations in "
            "flight; retry when they finish, or add credits (POST /v1/credits/top-up).",
            metadata={"code": IN_FLIGHT, "retry_after": IN_FLIGHT_RETRY_SECONDS},
        )
    raise InsufficientFunds(
        "Insufficient funds: add credits to your team (POST /v1/credits/top-up) to continue."
    )


def _within_budget(
    state: BudgetState, available: Decimal, quote: Quote, unheld: Decimal
) -> Reservation | None:
    """The hold ``state``'s budget allows out of ``available`` (None: no limit of its own);
    BudgetExceeded when it allows none — saying so (code :data:`IN_FLIGHT`, retry after a
    second) when what is left of it with nothing in flight (``unheld``) would allow it. A soft
    budget refuses only once its cap is reached and never clamps."""
    budget = state.budget
    reservation = grant(available, quote) if budget.hard else None
    if (budget.hard and reservation is None) or (not budget.hard and available <= 0):
        would = grant(unheld, quote) is not None if budget.hard else unheld > 0
        if would:
            raise BudgetExceeded(
                f"Budget exceeded for now: {budget.label} is held by generations in flight for "
                f"the current {budget.period.value}; retry when they finish.",
                metadata={"code": IN_FLIGHT, "retry_after": IN_FLIGHT_RETRY_SECONDS},
            )
        raise BudgetExceeded(
            f"Budget exceeded: {budget.label} is used up for the current {budget.period.value} "
            "(periods are UTC calendar days and months)."
        )
    return reservation


def grant_lease(
    available: Decimal, reservation: Reservation, asked: Decimal, policy: LeasePolicy
) -> Reservation:
    """``reservation`` widened to a lease of up to ``asked`` (at most a share of ``available``)
    while the team could pay ``policy.min_worst_cases`` worst cases; never clamped ones."""
    worst = reservation.reserved
    plenty = available >= worst * policy.min_worst_cases
    if asked <= worst or reservation.max_output_tokens or not plenty:
        return reservation
    return replace(reservation, reserved=max(worst, min(asked, available * policy.share)))


class BalanceView:
    """Teams' accounts with their holds and budgets, as read under the team's row lock: where a
    reservation is decided (:meth:`reserve`) and where the rules of settling and giving back
    are applied. Nothing here expires on time: a hold goes when its facts or its router settle
    it, or when the expiry sweep finds the facts caught up (:mod:`tollgate_billing.ledger.expiry`)."""

    def __init__(self, leases: LeasePolicy | None = None) -> None:
        self._leases = leases if leases is not None else LeasePolicy()
        self._teams: dict[str, _Team] = {}

    def account(self, team_id: str) -> Account | None:
        team = self._teams.get(team_id)
        return None if team is None else team.account

    def put(self, account: Account) -> None:
        """The team's account as committed."""
        team = self._teams.get(account.team_id)
        if team is None:
            self._teams[account.team_id] = _Team(account)
        else:
            team.account = account

    def put_hold(self, team_id: str, hold_id: str, hold: Hold) -> None:
        """A hold of the team as stored (the team's account must be loaded)."""
        self._teams[team_id].holds[hold_id] = hold

    def hold(self, team_id: str, hold_id: str) -> Hold | None:
        team = self._teams.get(team_id)
        return None if team is None else team.holds.get(hold_id)

    def available(
        self, team_id: str, requester: Requester = NOBODY, at: datetime | None = None
    ) -> Decimal:
        """What the team may still hold: its balance minus its holds, and (with ``at``) no more
        than what is left under each budget that applies to ``requester``."""
        team = self._teams[team_id]
        left = team.account.balance - team.held()
        for state in team.budgets or ():
            if at is not None and applies(state.budget, requester.project_id, requester.key_id):
                headroom = state.budget.amount - state.spent_in(at) - team.held_in(state)
                left = min(left, headroom)
        return left

    def put_tally(self, team_id: str, tally: HoldTally) -> None:
        """How many holds counted in the account's ``held`` (and not put one by one) may
        still be running, and what those given back owe (the team's account must be loaded)."""
        self._teams[team_id].tally = tally

    def put_budgets(self, team_id: str, states: Iterable[BudgetState]) -> None:
        """The team's budgets with their spend (the team's account must be loaded)."""
        self._teams[team_id].budgets = list(states)

    def reserve(
        self,
        team_id: str,
        hold_id: str,
        quote: Quote,
        lease: Decimal = ZERO,
        requester: Requester = NOBODY,
        at: datetime | None = None,
    ) -> Reservation:
        """Hold the worst case of ``quote``, or a lease of up to ``lease`` that covers it,
        against the balance and every budget that applies to ``requester`` (the team's account,
        and its budgets when it has any, must be loaded; ``at`` says which budget period it is):
        the lowest clamp applies, and a lease is no bigger than what every one of them has left.
        A repeat of ``hold_id`` answers the hold made before."""
        team = self._teams[team_id]
        existing = team.holds.get(hold_id)
        if existing is not None:
            return existing.reservation
        available = team.account.balance - team.held()
        budgets: list[tuple[BudgetState, Decimal, Decimal]] = []  # left, and left unheld
        for state in team.budgets or ():
            if at is None or not applies(state.budget, requester.project_id, requester.key_id):
                continue
            unspent = state.budget.amount - state.spent_in(at)
            owed = team.held_in(state, returned_only=True)
            budgets.append((state, unspent - team.held_in(state), unspent - owed))
        least = min([available, *(left for _, left, _ in budgets)])
        running = max(team.running(), quote.running_generations)
        quote = pressed(least, quote, self._leases, running)
        reservation = quote_reservation(available, quote, team.account.balance - team.owed())
        for state, left, unheld in budgets:
            capped = _within_budget(state, left, quote, unheld)
            if capped is not None and capped.reserved < reservation.reserved:
                reservation = capped
        reservation = grant_lease(least, reservation, lease, self._leases)
        team.holds[hold_id] = Hold(reservation, reservation.reserved, requester=requester)
        return reservation

    def release(
        self, team_id: str, hold_id: str, spent: Decimal | None = None, in_use: bool = False
    ) -> None:
        """Give a hold back (see :meth:`Hold.give_back`), or shrink a lease still in use
        (:meth:`Hold.shrink`)."""
        team = self._teams.get(team_id)
        hold = None if team is None else team.holds.get(hold_id)
        if team is None or hold is None:
            return
        if in_use:
            hold.shrink(ZERO if spent is None else spent)
        elif hold.give_back(spent):
            del team.holds[hold_id]

    def settle(self, team_id: str, hold_id: str, cost: Decimal, lease: bool) -> None:
        """A usage fact charged ``cost``: the hold it drew from shrinks by as much (a lease),
        or goes (a generation's own hold)."""
        team = self._teams.get(team_id)
        hold = None if team is None else team.holds.get(hold_id)
        if team is None or hold is None:
            return
        if not lease or hold.charge(cost):
            del team.holds[hold_id]

    def holds(self, team_id: str) -> int:
        team = self._teams.get(team_id)
        return 0 if team is None else len(team.holds)
