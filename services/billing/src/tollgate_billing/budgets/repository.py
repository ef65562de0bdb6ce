"""Budgets in SQL, and what each budget's scope was charged since its period started (summed
from the team's generation records: their ``cost`` is exactly the ledger's usage debit)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tollgate_billing.budgets.budget import (
    Budget,
    BudgetState,
    Period,
    Scope,
    applies,
    period_start,
)
from tollgate_billing.models import budgets, generations


def _budget(row: RowMapping) -> Budget:
    return Budget(
        team_id=row["team_id"],
        scope=Scope(row["scope"]),
        scope_id=row["scope_id"],
        amount=row["amount"],
        period=Period(row["period"]),
        hard=row["hard"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class BudgetRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def all(self, team_id: str) -> list[Budget]:
        async with self._engine.connect() as conn:
            return await _all(conn, team_id)

    async def put(self, budget: Budget) -> tuple[Budget, bool]:
        """Create or replace; returns the stored budget and whether it is new."""
        b = budgets.c
        key = (
            (b.team_id == budget.team_id)
            & (b.scope == budget.scope.value)
            & (b.scope_id == budget.scope_id)
        )
        values = {
            "amount": budget.amount,
            "period": budget.period.value,
            "hard": budget.hard,
            "updated_at": budget.updated_at,
        }
        async with self._engine.begin() as conn:
            found = (await conn.execute(select(b.created_at).where(key))).first()
            if found is not None:
                await conn.execute(update(budgets).where(key).values(**values))
                return replace(budget, created_at=found[0]), False
            await conn.execute(
                insert(budgets).values(
                    team_id=budget.team_id,
                    scope=budget.scope.value,
                    scope_id=budget.scope_id,
                    created_at=budget.created_at,
                    **values,
                )
            )
        return budget, True

    async def delete(self, team_id: str, scope: Scope, scope_id: str) -> bool:
        b = budgets.c
        statement = delete(budgets).where(
            (b.team_id == team_id) & (b.scope == scope.value) & (b.scope_id == scope_id)
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(statement)
        return bool(result.rowcount)

    async def load(self, team_id: str, at: datetime) -> list[BudgetState]:
        async with self._engine.connect() as conn:
            return await load_budgets(conn, team_id, at)


async def _all(conn: AsyncConnection, team_id: str) -> list[Budget]:
    query = select(budgets).where(budgets.c.team_id == team_id)
    rows = (await conn.execute(query)).mappings().all()
    return sorted((_budget(row) for row in rows), key=Budget.sort_key)


async def load_budgets(conn: AsyncConnection, team_id: str, at: datetime) -> list[BudgetState]:
    """The team's budgets with what their scopes were charged from the start of each one's
    current period on (generations created later, e.g. by a router whose clock is ahead, are
    counted in their own period). On ``conn``: a reservation reads them in its transaction,
    under the team's row lock, so no usage fact is counted in neither its hold nor its spend."""
    states = [BudgetState(budget) for budget in await _all(conn, team_id)]
    if not states:
        return states
    since = min(period_start(state.budget.period, at) for state in states)
    g = generations.c
    query = select(g.project_id, g.key_id, g.created_at, g.cost).where(
        g.team_id == team_id, g.created_at >= since
    )
    result = await conn.stream(query.execution_options(yield_per=1000))
    async for project_id, key_id, created_at, cost in result:
        _count(states, project_id, key_id, created_at, cost, at)
    return states


def _count(
    states: list[BudgetState],
    project_id: str,
    key_id: str,
    created_at: datetime,
    cost: Decimal,
    at: datetime,
) -> None:
    if not cost:
        return
    for state in states:
        if created_at >= period_start(state.budget.period, at) and applies(
            state.budget, project_id, key_id
        ):
            state.add(created_at, cost)
