"""Budgets: list, set and remove a team's caps, with their activity events. Enforcement is in
the ledger's reservation (:mod:`tollgate_billing.ledger.view`), which reads them from the database
under the team's row lock, so a change applies to the next reservation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from tollgate.events.v1 import activity_pb2
from tollgate_common.errors import InvalidArgument
from tollgate_common.money import format_usd

from tollgate_billing.budgets.budget import (
    Budget,
    BudgetState,
    Scope,
    parse_amount,
    parse_period,
    parse_scope,
    period_start,
)
from tollgate_billing.budgets.repository import BudgetRepository
from tollgate_billing.domain import Clock
from tollgate_billing.errors import BudgetNotFound, missing_field
from tollgate_billing.events import FactSink, activity_event
from tollgate_billing.models import ID_LENGTH

# Activity event types (docs/admin-api.md: named as in the Vercel activity log).
SPEND_CREATED = "spend-created"
SPEND_UPDATED = "spend-updated"
SPEND_DELETED = "spend-deleted"


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """A budget and its current period: when it started and what was spent in it."""

    budget: Budget
    period_start: datetime
    spent: Decimal


class SpendTracker(Protocol):
    """Where the budgets in force and their spend are read (the ledger, which enforces them)."""

    async def budget_states(self, team_id: str) -> list[BudgetState]:
        """The team's budgets and what their scopes were charged."""
        ...


def _status(state: BudgetState, at: datetime) -> BudgetStatus:
    return BudgetStatus(state.budget, period_start(state.budget.period, at), state.spent_in(at))


def _scope_id(team_id: str, scope: Scope, scope_id: str) -> str:
    if not scope_id:
        raise missing_field("scope_id")
    if len(scope_id) > ID_LENGTH:
        raise InvalidArgument("scope_id is too long", metadata={"param": "scope_id"})
    if scope is Scope.TEAM and scope_id != team_id:
        raise BudgetNotFound(f"team {scope_id} not found")
    return scope_id


class BudgetService:
    def __init__(
        self,
        budgets: BudgetRepository,
        credits: SpendTracker,
        activity: FactSink,
        clock: Clock,
    ) -> None:
        self._budgets = budgets
        self._credits = credits
        self._activity = activity
        self._clock = clock

    async def list(self, team_id: str) -> list[BudgetStatus]:
        if not team_id:
            raise missing_field("team_id")
        at = self._clock()
        return [_status(state, at) for state in await self._credits.budget_states(team_id)]

    async def put(
        self,
        team_id: str,
        scope: str,
        scope_id: str,
        amount: str,
        period: str,
        hard: bool,
        actor_id: str,
    ) -> tuple[BudgetStatus, bool]:
        """Create or replace the budget of one scope; returns it and whether it is new."""
        if not team_id:
            raise missing_field("team_id")
        kind = parse_scope(scope)
        at = self._clock()
        budget = Budget(
            team_id=team_id,
            scope=kind,
            scope_id=_scope_id(team_id, kind, scope_id),
            amount=parse_amount(amount),
            period=parse_period(period),
            hard=hard,
            created_at=at,
            updated_at=at,
        )
        stored, created = await self._budgets.put(budget)
        self._event(SPEND_CREATED if created else SPEND_UPDATED, stored, actor_id, at)
        for status in await self.list(team_id):
            if (status.budget.scope, status.budget.scope_id) == (kind, budget.scope_id):
                return status, created
        return BudgetStatus(stored, period_start(stored.period, at), Decimal(0)), created

    async def delete(self, team_id: str, scope: str, scope_id: str, actor_id: str) -> None:
        if not team_id:
            raise missing_field("team_id")
        kind = parse_scope(scope)
        scope_id = _scope_id(team_id, kind, scope_id)
        existing = [s.budget for s in await self.list(team_id) if s.budget.scope is kind]
        found = [b for b in existing if b.scope_id == scope_id]
        if not found or not await self._budgets.delete(team_id, kind, scope_id):
            raise BudgetNotFound(f"no {kind.value} budget for {scope_id}")
        self._event(SPEND_DELETED, found[0], actor_id, self._clock())

    def _event(self, type_: str, budget: Budget, actor_id: str, at: datetime) -> None:
        details = {
            "scope": budget.scope.value,
            "amount": format_usd(budget.amount),
            "period": budget.period.value,
            "hard": "true" if budget.hard else "false",
        }
        actor = activity_pb2.Actor(id=actor_id, type=activity_pb2.ACTOR_TYPE_USER)
        target = activity_pb2.Target(type=budget.scope.value, id=budget.scope_id)
        self._activity.put(activity_event(budget.team_id, type_, actor, target, details, at))
