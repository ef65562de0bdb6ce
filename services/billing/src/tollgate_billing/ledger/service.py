"""Credits: balances, top-ups, the free tier, reservations, and usage charged exactly once.

One writer per process: every ledger transaction runs under ``_write_lock`` and the balance
cache is updated under it right after the commit, so the cache never goes back in time. (Several
billing replicas would each need their own teams: see docs/billing.md.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from tollgate.events.v1 import activity_pb2
from tollgate_common.errors import InvalidArgument
from tollgate_common.ids import new_id
from tollgate_common.inbox import Stored
from tollgate_common.money import ZERO, format_usd
from tollgate_common.outbox import Fact

from tollgate_billing.budgets.budget import BudgetState
from tollgate_billing.budgets.repository import BudgetRepository
from tollgate_billing.domain import Clock, parse_top_up, utc_now
from tollgate_billing.errors import BalanceLimit, missing_field
from tollgate_billing.events import FactSink, activity_event
from tollgate_billing.generations.repository import GenerationRepository
from tollgate_billing.generations.service import Generation
from tollgate_billing.ledger.account import (
    DEFAULT_FREE_TIER,
    Account,
    ActorType,
    EntryKind,
    FreeTier,
    Posting,
    free_grant_due,
    with_free_tier,
)
from tollgate_billing.ledger.cache import NOBODY, BalanceCache, Quote, Requester, Reservation
from tollgate_billing.ledger.repository import LedgerRepository
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
        cache: BalanceCache,
        activity: FactSink,
        clock: Clock = utc_now,
        *,
        budgets: BudgetRepository | None = None,
        free_tier: FreeTier = DEFAULT_FREE_TIER,
    ) -> None:
        self._ledger = ledger
        self._free_tier = free_tier
        self._cache = cache
        self._activity = activity
        self._clock = clock
        self._budgets = budgets
        self._write_lock = asyncio.Lock()

    # -- reads --------------------------------------------------------------------------

    async def credits(self, team_id: str) -> Account:
        if not team_id:
            raise missing_field("team_id")
        account = self._cache.account(team_id)
        if account is None:
            account = await self._ledger.load(team_id) or Account(team_id)
        return account

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
            self._cache.put(posted.account)
        for posting in posted.postings:
            if posting.kind in _EVENT_TYPES:
                self._activity.put(activity_fact(team_id, posting, posted.account, at, reason))
        return posted.account

    # -- budgets --------------------------------------------------------------------------

    async def budget_states(self, team_id: str) -> list[BudgetState]:
        """The team's budgets and their spend: the cache's when loaded, else from the database."""
        states = self._cache.budget_states(team_id)
        if states is not None:
            return states
        return [] if self._budgets is None else await self._budgets.load(team_id, self._clock())

    async def reload_budgets(self, team_id: str) -> None:
        """Read the team's budgets and their spend into the cache again (after a change)."""
        if self._budgets is None:
            return
        async with self._write_lock:
            if self._cache.account(team_id) is not None:
                states = await self._budgets.load(team_id, self._clock())
                self._cache.put_budgets(team_id, states)

    # -- reservations ---------------------------------------------------------------------

    async def reserve(
        self,
        team_id: str,
        hold_id: str,
        quote: Quote,
        lease: Decimal = ZERO,
        requester: Requester = NOBODY,
    ) -> Reservation:
        """Hold the worst case of a generation before any provider is called (or a lease that
        covers it: see :mod:`tollgate_billing.ledger.cache`), against the balance and every budget of
        the team, ``requester``'s project and key. Only a team's first request of a free period
        writes to the database (its grant), and only its first request in this process reads
        its budgets."""
        if not team_id:
            raise missing_field("team_id")
        if not hold_id:
            raise missing_field("hold_id")
        account = self._cache.account(team_id)
        if account is None or free_grant_due(account, self._clock(), self._free_tier) is not None:
            await self._load_for_request(team_id)
        if not self._cache.budgets_loaded(team_id):
            await self.reload_budgets(team_id)
        return self._cache.reserve(team_id, hold_id, quote, lease, requester, self._clock())

    def release(self, team_id: str, hold_id: str, spent: Decimal | None = None) -> None:
        self._cache.release(team_id, hold_id, spent)

    def available(self, team_id: str, requester: Requester = NOBODY) -> Decimal:
        """Balance minus holds of a team in the cache (after a reservation loaded it), capped by
        what its budgets that apply to ``requester`` have left."""
        return self._cache.available(team_id, requester, self._clock())

    async def _load_for_request(self, team_id: str) -> None:
        """Load the team into the cache, starting its free period if one is due."""
        at = self._clock()
        async with self._write_lock:
            account = self._cache.account(team_id) or await self._ledger.load(team_id)
            if account is not None and free_grant_due(account, at, self._free_tier) is None:
                self._cache.put(account)
                return

        def grant(current: Account) -> tuple[Account, list[Posting]]:
            due = free_grant_due(current, at, self._free_tier)
            if due is None:
                return current, []
            advanced, posting = due
            return advanced, [] if posting is None else [posting]

        await self._post(team_id, grant)

    # -- usage ----------------------------------------------------------------------------

    async def apply_usage(self, batch: Sequence[Generation]) -> list[Stored]:
        """Record and charge each generation once; settle its hold."""
        at = self._clock()
        async with self._write_lock:
            applied = await self._ledger.apply_usage(batch, at)
            for account in applied.accounts.values():
                self._cache.put(account)
            # Each new generation's cost counts in its budgets as its hold shrinks (no await
            # between): a reservation never sees the money in neither or in both.
            for g in applied.settled:
                requester = Requester(g.project_id, g.key_id)
                self._cache.add_spend(g.team_id, requester, g.created_at, g.cost)
                self._cache.settle(
                    g.team_id, g.hold_id or g.generation_id, g.cost, lease=bool(g.hold_id)
                )
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
