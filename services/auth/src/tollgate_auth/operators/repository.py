"""SQL for operators: the ``users.operator`` flag, changed under one lock so that two demotions
at once cannot leave the installation without an operator."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tollgate_auth.domain import BOOTSTRAP_EMAIL, Operator
from tollgate_auth.errors import BootstrapOperator, LastOperator, UserNotFound
from tollgate_auth.models import teams, users


def _operator(row: Any) -> Operator:
    return Operator(user_id=row.id, email=row.email, bootstrap=row.email == BOOTSTRAP_EMAIL)


class OperatorRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def operators(self) -> list[Operator]:
        query = select(users.c.id, users.c.email).where(users.c.operator).order_by(users.c.email)
        async with self._engine.connect() as conn:
            return [_operator(row) for row in (await conn.execute(query)).all()]

    async def team_exists(self, team_id: str) -> bool:
        async with self._engine.connect() as conn:
            return bool(
                (await conn.execute(select(exists().where(teams.c.id == team_id)))).scalar()
            )

    async def set_operator(self, user_id: str, operator: bool) -> tuple[Operator, bool]:
        """Give or take the privilege; returns the user and whether anything changed. The
        bootstrap user and the last operator keep it (409)."""
        async with self._engine.begin() as conn:
            await _lock_operators(conn)
            query = select(users.c.id, users.c.email, users.c.operator).where(users.c.id == user_id)
            row = (await conn.execute(query)).first()
            if row is None:
                raise UserNotFound()
            if bool(row.operator) == operator:
                return _operator(row), False
            if not operator:
                if row.email == BOOTSTRAP_EMAIL:
                    raise BootstrapOperator()
                count = select(func.count()).select_from(users).where(users.c.operator)
                if (await conn.execute(count)).scalar_one() <= 1:
                    raise LastOperator()
            await conn.execute(update(users).where(users.c.id == user_id).values(operator=operator))
        return _operator(row), True


async def _lock_operators(conn: AsyncConnection) -> None:
    """Serialize changes to the operators until this transaction ends."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
    else:
        # SQLite: a write statement takes the database's write lock at once.
        await conn.execute(text("UPDATE users SET operator = operator WHERE 1 = 0"))
