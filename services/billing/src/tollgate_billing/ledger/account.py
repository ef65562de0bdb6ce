"""The ledger's rules on typed values: entries, a team's account, the free tier.

Pure functions; the repository applies them inside the transaction that writes the entries, so
the balance row always equals the sum of the team's entries.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from tollgate_common.money import ZERO

# The free tier (Vercel's Pricing page): $5 of credit every 30 days, starting with the team's
# first request; unused free credit does not accumulate; none once the team has purchased.
# The operator may change both (``TOLLGATE_BILLING_FREE_TIER_*``: docs/billing.md).
FREE_AMOUNT = Decimal("5.00")
FREE_PERIOD = timedelta(days=30)
NO_PERIOD = -1
# The free period of a team that never collects the free tier: the auth service decided so when
# the team was created (one free tier per user: docs/billing.md, "Free tier").
NO_FREE_TIER = 2**31 - 1


class EntryKind(StrEnum):
    FREE_GRANT = "free_grant"
    PURCHASE = "purchase"
    USAGE = "usage"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"


class ActorType(StrEnum):
    USER = "user"
    API_KEY = "api-key"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class FreeTier:
    """What a free period grants (up to ``amount`` of unspent free credit) and how long it is."""

    amount: Decimal = FREE_AMOUNT
    period: timedelta = FREE_PERIOD


DEFAULT_FREE_TIER = FreeTier()


@dataclass(frozen=True, slots=True)
class Posting:
    """One ledger entry to write: ``amount`` is signed (+ credit, - debit)."""

    kind: EntryKind
    amount: Decimal
    idempotency_key: str
    actor_type: ActorType = ActorType.SYSTEM
    actor_id: str = ""


@dataclass(frozen=True, slots=True)
class Account:
    """A team's balance row: the ledger's running totals and the free-tier state."""

    team_id: str
    balance: Decimal = ZERO
    total_used: Decimal = ZERO
    free_balance: Decimal = ZERO
    purchased: bool = False
    free_anchor: datetime | None = None
    free_period: int = NO_PERIOD
    # What the team's live holds hold in all (beside the balance, never part of it).
    held: Decimal = ZERO


def apply(account: Account, posting: Posting) -> Account:
    """``account`` after ``posting``. Usage is paid from the free part first."""
    amount = posting.amount
    balance = account.balance + amount
    total_used, free, purchased = account.total_used, account.free_balance, account.purchased
    if posting.kind is EntryKind.USAGE:
        total_used -= amount
        free = max(ZERO, free + amount)
    elif posting.kind is EntryKind.REFUND:
        total_used = max(ZERO, total_used - amount)
    elif posting.kind is EntryKind.FREE_GRANT:
        free += amount
    elif posting.kind is EntryKind.PURCHASE:
        purchased = True
    # The free part is part of the balance, never more than what is left of it.
    free = min(free, max(balance, ZERO))
    return replace(
        account, balance=balance, total_used=total_used, free_balance=free, purchased=purchased
    )


def free_period_of(anchor: datetime, at: datetime, length: timedelta = FREE_PERIOD) -> int:
    """Which free period (30 days by default) ``at`` falls in (0 = the one starting at
    ``anchor``)."""
    return max(0, (at - anchor) // length)


def free_grant_due(
    account: Account, at: datetime, tier: FreeTier = DEFAULT_FREE_TIER
) -> tuple[Account, Posting | None] | None:
    """The free-tier grant a request at ``at`` triggers: None when nothing is due; else the
    account with the new period (and anchor) recorded, and the grant that tops the free part up
    to ``tier.amount`` (None when it is there already: the period advances without an entry)."""
    if account.purchased:
        return None
    anchor = account.free_anchor or at
    period = free_period_of(anchor, at, tier.period)
    if period <= account.free_period:
        return None
    amount = tier.amount - min(account.free_balance, tier.amount)
    advanced = replace(account, free_anchor=anchor, free_period=period)
    if amount <= 0:
        return advanced, None
    return advanced, Posting(EntryKind.FREE_GRANT, amount, f"free:{period}")


def with_free_tier(account: Account, eligible: bool) -> Account:
    """``account`` collecting the free tier (from its next request, as any new team) or never
    (:data:`NO_FREE_TIER`: :func:`free_grant_due` finds nothing due; credit already granted
    stays)."""
    if eligible:
        return (
            replace(account, free_period=NO_PERIOD)
            if account.free_period == NO_FREE_TIER
            else account
        )
    return replace(account, free_period=NO_FREE_TIER)
