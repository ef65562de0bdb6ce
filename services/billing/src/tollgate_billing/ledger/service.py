"""Credits: balances, top-ups, the free tier, reservations, and usage charged exactly once.

Postings and usage batches run one at a time per process (``_write_lock``); reservations and
give-backs too on SQLite, which has one writer anyway (waiting here is cheaper than waiting on
its busy timeout). A team's reservations that arrive together are decided in one transaction
(:mod:`tollgate_billing.ledger.batches`). Across processes the team's row lock decides: a
reservation reads the committed balance and what the team's live holds hold under it, so
several billing replicas on one database can run side by side (docs/billing.md, "Replicas").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection
from tollgate.events.v1 import activity_pb2
from tollgate_common.errors import DomainError, InvalidArgument
from tollgate_common.ids import new_id
from tollgate_common.inbox import Stored
from tollgate_common.money import ZERO, format_usd
from tollgate_common.outbox import Fact

from tollgate_billing.budgets.budget import BudgetState
from tollgate_billing.budgets.repository import BudgetRepository, load_budgets
from tollgate_billing.domain import Clock, parse_top_up, utc_now
from tollgate_billing.errors import BalanceLimit, missing_field
from tollgate_billing.events import FactSink, activity_event
from tollgate_billing.generations.repository import GenerationRepository
from tollgate_billing.generations.service import Generation
from tollgate_billing.ledger.account import (
    Account,
    ActorType,
    EntryKind,
    Posting,
    with_free_tier,
)
from tollgate_billing.ledger.batches import Item, TeamBatches
from tollgate_billing.ledger.holds import NewHold, UnsettledHold
from tollgate_billing.ledger.repository import BudgetLoader, LedgerRepository, TeamState
from tollgate_billing.ledger.view import (
    NOBODY,
    BalanceView,
    LeasePolicy,
    Quote,
    Requester,
    Reservation,
)
from tollgate_billing.models import KEY_LENGTH

log = logging.getLogger(__name__)

# Activity event types (docs/admin-api.md; `credits-adjusted` is ours, listed in docs/billing.md).
CREDITS_PURCHASED = "credits-purchased"
FREE_CREDITS_GRANTED = "free-credits-granted"
CREDITS_ADJUSTED = "credits-adjusted"

_EVENT_TYPES = {
    EntryKind.PURCHASE: CREDITS_PURCHASED,
    EntryKind.FREE_GRANT: FREE_CREDITS_GRANTED,
    EntryKind.ADJUSTMENT: CREDITS_ADJUSTED,
    EntryKind.REFUND: CREDITS_ADJUSTED,
}
_ACTOR_TYPES = {
    ActorType.USER: activity_pb2.ACTOR_TYPE_USER,
    ActorType.API_KEY: activity_pb2.ACTOR_TYPE_API_KEY,
    ActorType.SYSTEM: activity_pb2.ACTOR_TYPE_SYSTEM,
}


def activity_fact(
    team_id: str, posting: Posting, account: Account, at: datetime, reason: str = ""
) -> Fact:
    """The activity-log event of a credit entry (never of a usage debit)."""
    details = {
        "amount": format_usd(posting.amount),
        "balance": format_usd(account.balance),
        "kind": posting.kind.value,
    }
    if reason:
        details["reason"] = reason
    return activity_event(
        team_id,
        _EVENT_TYPES[posting.kind],
        activity_pb2.Actor(id=posting.actor_id, type=_ACTOR_TYPES[posting.actor_type]),
        activity_pb2.Target(type="team", id=team_id),
        details,
        at,
    )


@dataclass(frozen=True, slots=True)
class HoldPolicy:
    """How long a hold lives without a settlement or a give-back (it then goes only once the
    usage facts published before it expired are applied), and when a hold may be a lease."""

    hold_seconds: float = 900.0
    leases: LeasePolicy = field(default_factory=LeasePolicy)


@dataclass(frozen=True, slots=True)
class Granted:
    """A reservation, and what the team has left after it (capped by the budgets that apply)."""

    reservation: Reservation
    available: Decimal


@dataclass(frozen=True, slots=True)
class _Ask:
    """A reservation waiting for its team's next batch."""

    hold_id: str
    quote: Quote
    lease: Decimal
    requester: Requester
    instance_id: str


@dataclass(frozen=True, slots=True)
class _Decided:
    """A batch's answers, in the order asked, and the hold ids it wrote."""

    answers: list[Granted | DomainError]
    new: frozenset[str]


def _actor(actor_type: str) -> ActorType:
    try:
        return ActorType(actor_type)
    except ValueError:
        raise InvalidArgument(
            f"actor_type must be one of {', '.join(a.value for a in ActorType)}",
            metadata={"param": "actor_type"},
        ) from None


class CreditsService:
    def __init__(
        self,
        ledger: LedgerRepository,
        activity: FactSink,
        clock: Clock = utc_now,
        *,
        budgets: BudgetRepository | None = None,
        holds: HoldPolicy | None = None,
    ) -> None:
        self._ledger = ledger
        self._activity = activity
        self._clock = clock
        self._budgets = budgets
        self._holds = holds if holds is not None else HoldPolicy()
        self._write_lock = asyncio.Lock()
        self._reservations: TeamBatches[_Ask, Granted] = TeamBatches(
            self._reserve_batch, self._writes
        )

    # -- reads --------------------------------------------------------------------------

    async def credits(self, team_id: str) -> Account:
        if not team_id:
            raise missing_field("team_id")
        return await self._ledger.load(team_id) or Account(team_id)

    # -- credit entries -------------------------------------------------------------------

    async def top_up(
        self, team_id: str, amount: str, idempotency_key: str, actor_type: str, actor_id: str
    ) -> Account:
        """Add purchased credits (the payment itself is a hook outside billing)."""
        if not team_id:
            raise missing_field("team_id")
        value = parse_top_up(amount)
        if value is None:
            raise InvalidArgument(
                "amount must be a positive decimal with at most 2 decimals",
                metadata={"param": "amount"},
            )
        key = idempotency_key or new_id("topup")
        if len(key) > KEY_LENGTH - len("purchase:"):
            raise InvalidArgument("idempotency key too long", metadata={"param": "idempotency_key"})
        posting = Posting(
            EntryKind.PURCHASE, value, f"purchase:{key}", _actor(actor_type), actor_id
        )
        return await self._post(team_id, lambda account: (account, [posting]))

    async def adjust(
        self,
        team_id: str,
        amount: Decimal,
        idempotency_key: str,
        kind: EntryKind,
        actor_id: str,
        *,
        reason: str = "",
        allow_negative: bool = False,
    ) -> Account:
        """An operator's correction (ADJUSTMENT, either sign) or a REFUND of usage. A debit
        that would take the balance below zero is refused unless ``allow_negative``."""
        if not team_id:
            raise missing_field("team_id")
        if kind not in (EntryKind.ADJUSTMENT, EntryKind.REFUND):
            raise InvalidArgument("only adjustments and refunds", metadata={"param": "kind"})
        if not amount.is_finite() or not amount or (kind is EntryKind.REFUND and amount <= 0):
            raise InvalidArgument("invalid amount", metadata={"param": "amount"})
        key = idempotency_key or new_id("adj")
        if len(key) > KEY_LENGTH - len(f"{kind.value}:"):
            raise InvalidArgument("idempotency key too long", metadata={"param": "idempotency_key"})
        posting = Posting(kind, amount, f"{kind.value}:{key}", ActorType.USER, actor_id)

        def decide(account: Account) -> tuple[Account, list[Posting]]:
            if amount < 0 and account.balance + amount < 0 and not allow_negative:
                raise BalanceLimit(
                    f"the adjustment would take the balance ({account.balance}) below zero; "
                    "set allowNegative to do it anyway",
                    metadata={"param": "amount", "http_status": "409", "type": "conflict"},
                )
            return account, [posting]

        return await self._post(team_id, decide, reason)

    async def set_free_tier(self, team_id: str, eligible: bool) -> Account:
        """Whether the team collects the free tier (decided by the auth service when the team
        was created); idempotent."""
        if not team_id:
            raise missing_field("team_id")
        return await self._post(team_id, lambda account: (with_free_tier(account, eligible), []))

    async def _post(
        self,
        team_id: str,
        decide: Callable[[Account], tuple[Account, list[Posting]]],
        reason: str = "",
    ) -> Account:
        at = self._clock()
        async with self._write_lock:
            posted = await self._ledger.post(team_id, at, decide)
        for posting in posted.postings:
            if posting.kind in _EVENT_TYPES:
                self._activity.put(activity_fact(team_id, posting, posted.account, at, reason))
        return posted.account

    # -- budgets --------------------------------------------------------------------------

    async def budget_states(self, team_id: str) -> list[BudgetState]:
        """The team's budgets and their spend, as the next reservation will see them."""
        return [] if self._budgets is None else await self._budgets.load(team_id, self._clock())

    # -- reservations ---------------------------------------------------------------------

    async def reserve(
        self,
        team_id: str,
        hold_id: str,
        quote: Quote,
        lease: Decimal = ZERO,
        requester: Requester = NOBODY,
        instance_id: str = "",
    ) -> Granted:
        """Hold the worst case of a generation before any provider is called (or a lease that
        covers it: see :mod:`tollgate_billing.ledger.view`), against the committed balance, every
        live hold of the team and every budget of the team, ``requester``'s project and key, all
        read under the team's row lock; the hold is written in the same transaction. A team's
        first request of a free period posts its grant there too. Reservations of one team
        that arrive together are decided in one transaction, in turn
        (:mod:`tollgate_billing.ledger.batches`)."""
        if not team_id:
            raise missing_field("team_id")
        if not hold_id:
            raise missing_field("hold_id")
        return await self._reservations.submit(
            team_id, _Ask(hold_id, quote, lease, requester, instance_id)
        )

    async def _reserve_batch(self, team_id: str, batch: list[Item[_Ask, Granted]]) -> None:
        at = self._clock()
        expires = at + timedelta(seconds=self._holds.hold_seconds)

        def decide(state: TeamState) -> tuple[list[NewHold], _Decided]:
            view = self._view(state)
            new: dict[str, NewHold] = {}
            decided: list[Reservation | DomainError] = []
            for ask in (item.ask for item in batch):
                stored = state.existing.get(ask.hold_id)
                try:  # a repeat answers the hold made before
                    reservation = (
                        stored.reservation
                        if stored
                        else view.reserve(
                            team_id, ask.hold_id, ask.quote, ask.lease, ask.requester, at
                        )
                    )
                except DomainError as refused:
                    decided.append(refused)
                    continue
                decided.append(reservation)
                hold = view.hold(team_id, ask.hold_id)
                if stored is None and hold is not None and ask.hold_id not in new:
                    new[ask.hold_id] = NewHold(
                        team_id, ask.hold_id, hold, ask.instance_id, at, expires
                    )
            # What is left once the whole batch holds (the router takes the last answer it
            # reads as the team's figure: an earlier one of the batch would say too much).
            left: dict[Requester, Decimal] = {}
            answers: list[Granted | DomainError] = []
            for item, outcome in zip(batch, decided, strict=True):
                if isinstance(outcome, DomainError):
                    answers.append(outcome)
                    continue
                requester = item.ask.requester
                if requester not in left:
                    left[requester] = view.available(team_id, requester, at)
                answers.append(Granted(outcome, left[requester]))
            return list(new.values()), _Decided(answers, frozenset(new))

        hold_ids = [item.ask.hold_id for item in batch]
        reserved = await self._ledger.reserve(
            team_id, hold_ids, at, self._budget_loader(team_id, at), decide
        )
        if reserved.grant is not None:
            self._activity.put(activity_fact(team_id, reserved.grant, reserved.account, at))
        decided = reserved.answer
        unclaimed = set()
        for item, answer in zip(batch, decided.answers, strict=True):
            if item.abandoned() and item.ask.hold_id in decided.new:
                unclaimed.add(item.ask.hold_id)
            item.answer(answer)
        if unclaimed:  # their callers gave up waiting: no generation will draw on these holds
            log.warning("gave back %d holds of team %s whose callers left", len(unclaimed), team_id)
            for hold_id in unclaimed:
                await self._ledger.release(team_id, hold_id, None)

    async def available(self, team_id: str, requester: Requester = NOBODY) -> Decimal:
        """What the team may hold now: its balance less its live holds, capped by what the
        budgets that apply to ``requester`` have left (what ``Reserve`` answers after a hold)."""
        at = self._clock()
        state = await self._ledger.read_state(team_id, self._budget_loader(team_id, at))
        return self._view(state).available(team_id, requester, at)

    def _writes(self) -> contextlib.AbstractAsyncContextManager[object]:
        """The process's write lock where the database has one writer; elsewhere the team's
        row lock alone orders a team's reservations, and other teams' run alongside."""
        return self._write_lock if self._ledger.one_writer else contextlib.nullcontext()

    def _budget_loader(self, team_id: str, at: datetime) -> BudgetLoader | None:
        if self._budgets is None:
            return None

        async def load(conn: AsyncConnection) -> list[BudgetState]:
            return await load_budgets(conn, team_id, at)

        return load

    def _view(self, state: TeamState) -> BalanceView:
        """The team's state in a view to decide on (its holds counted once)."""
        account = state.account
        one_by_one = sum((hold.amount for hold in state.holds.values()), ZERO)
        view = BalanceView(self._holds.leases)
        view.put(replace(account, held=account.held - one_by_one))
        for hold_id, hold in state.holds.items():
            view.put_hold(account.team_id, hold_id, hold)
        view.put_tally(account.team_id, state.tally)
        view.put_budgets(account.team_id, state.budgets)
        return view

    async def release(
        self, team_id: str, hold_id: str, spent: Decimal | None = None, in_use: bool = False
    ) -> None:
        """Give a hold back: a generation's that reached no provider (``spent`` None), or a
        lease whose generations were charged ``spent`` in all (the part their usage facts have
        not debited yet stays held until they do); with ``in_use``, shrink a retired lease
        whose generations still run to ``spent`` (their costs and running worst cases)."""
        if not team_id:
            raise missing_field("team_id")
        if not hold_id:
            raise missing_field("hold_id")
        async with self._writes():
            await self._ledger.release(team_id, hold_id, spent, in_use)

    async def expire_holds(self, before: datetime) -> int:
        """Let the holds that expired before ``before`` go (the caller knows every usage fact
        published before then is applied); those not given back are kept as unsettled."""
        async with self._write_lock:
            gone = await self._ledger.expire_holds(before, self._clock())
        if gone:
            log.warning("%d holds expired (their usage facts are all applied)", gone)
        return gone

    async def unsettled(self, team_id: str | None, limit: int = 100) -> list[UnsettledHold]:
        """Holds that expired without their routers giving them back, the latest first: of one
        team, or of every team (None)."""
        return await self._ledger.unsettled(team_id, limit)

    # -- usage ----------------------------------------------------------------------------

    async def apply_usage(self, batch: Sequence[Generation]) -> list[Stored]:
        """Record and charge each generation once; settle its hold."""
        at = self._clock()
        async with self._write_lock:
            applied = await self._ledger.apply_usage(batch, at)
        for team_id, posting in applied.grants:
            account = applied.accounts[team_id]
            self._activity.put(activity_fact(team_id, posting, account, at))
        return applied.stored


class LedgerGenerationStore:
    """:class:`tollgate_billing.service.GenerationStore` over the ledger: a generation is
    recorded and charged in one transaction."""

    def __init__(self, credits: CreditsService, generations: GenerationRepository) -> None:
        self._credits = credits
        self._generations = generations

    async def record(self, generation: Generation) -> bool:
        [stored] = await self._credits.apply_usage([generation])
        return stored is Stored.NEW

    async def record_many(self, batch: Sequence[Generation]) -> list[Stored]:
        return await self._credits.apply_usage(batch)

    async def get(self, team_id: str, generation_id: str) -> Generation | None:
        return await self._generations.get(team_id, generation_id)
