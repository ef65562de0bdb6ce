"""Budgets' rules on typed values: scopes, periods, and which budgets a generation counts in.

A budget caps what one scope of a team (the whole team, one project, one API key) may be
charged per UTC calendar day or month. Budgets count ``cost`` (what the team is charged: 0 for
BYOK), the same number the ledger debits, never ``marketCost``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from tollgate_common.errors import InvalidArgument
from tollgate_common.money import ZERO

from tollgate_billing.domain import display, parse_top_up


class Scope(StrEnum):
    TEAM = "team"
    PROJECT = "project"
    KEY = "key"


class Period(StrEnum):
    DAY = "day"
    MONTH = "month"


_SCOPE_ORDER = {Scope.TEAM: 0, Scope.PROJECT: 1, Scope.KEY: 2}


@dataclass(frozen=True, slots=True)
class Budget:
    team_id: str
    scope: Scope
    scope_id: str
    amount: Decimal
    period: Period
    hard: bool
    created_at: datetime
    updated_at: datetime

    @property
    def label(self) -> str:
        """How an error message names it: ``the project prj_1 budget ($5.00 per day)``."""
        who = "team" if self.scope is Scope.TEAM else f"{self.scope.value} {self.scope_id}"
        return f"the {who} budget (${display(self.amount)} per {self.period.value})"

    def sort_key(self) -> tuple[int, str]:
        return _SCOPE_ORDER[self.scope], self.scope_id


def period_start(period: Period, at: datetime) -> datetime:
    """The start of the UTC calendar day or month that ``at`` falls in."""
    moment = at.astimezone(UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if period is Period.DAY else day.replace(day=1)


def applies(budget: Budget, project_id: str, key_id: str) -> bool:
    """Whether a generation of ``project_id`` / ``key_id`` counts in ``budget``."""
    if budget.scope is Scope.TEAM:
        return True
    wanted = project_id if budget.scope is Scope.PROJECT else key_id
    return bool(wanted) and wanted == budget.scope_id


@dataclass(slots=True)
class BudgetState:
    """A budget and what its scope was charged, per period start (only the periods since the
    budget was loaded into the cache are complete; older ones are dropped)."""

    budget: Budget
    spent: dict[datetime, Decimal] = field(default_factory=dict)

    def spent_in(self, at: datetime) -> Decimal:
        start = period_start(self.budget.period, at)
        for old in [s for s in self.spent if s < start]:
            del self.spent[old]
        return self.spent.get(start, ZERO)

    def add(self, at: datetime, cost: Decimal) -> None:
        start = period_start(self.budget.period, at)
        self.spent[start] = self.spent.get(start, ZERO) + cost


def _invalid(message: str, param: str) -> InvalidArgument:
    return InvalidArgument(message, metadata={"param": param})


def parse_scope(text: str) -> Scope:
    try:
        return Scope(text)
    except ValueError:
        raise _invalid("scope must be one of team, project, key", "scope") from None


def parse_period(text: str) -> Period:
    try:
        return Period(text)
    except ValueError:
        raise _invalid("period must be day or month", "period") from None


def parse_amount(text: str) -> Decimal:
    value = parse_top_up(text)
    if value is None:
        raise _invalid(
            "amount must be a positive decimal with at most 2 decimals, below 1000000000",
            "amount",
        )
    return value
