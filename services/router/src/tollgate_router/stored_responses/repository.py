"""SQL of the ``stored_responses`` table; owns its transactions. Every statement names the team:
an id of another team is never read, replaced or deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tollgate_router.models import stored_responses as table


@dataclass(frozen=True, slots=True)
class Kept:
    """One kept response: the response object and the conversation's input, as JSON text."""

    id: str
    response_json: str
    input_json: str
    created_at: datetime
    expires_at: datetime


def _this(team_id: str, response_id: str) -> ColumnElement[bool]:
    return (table.c.team_id == team_id) & (table.c.id == response_id)


class StoredResponseRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def put(self, team_id: str, kept: Kept) -> None:
        """Insert ``kept`` for the team, or replace the team's row of that id."""
        values = {
            "response_json": kept.response_json.encode(),
            "input_json": kept.input_json.encode(),
            "created_at": kept.created_at,
            "expires_at": kept.expires_at,
        }
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(table).where(_this(team_id, kept.id)).values(**values)
            )
            if not result.rowcount:
                await conn.execute(table.insert().values(team_id=team_id, id=kept.id, **values))

    async def get(self, team_id: str, response_id: str, now: datetime) -> Kept | None:
        """The team's live response of that id; None when there is none or it expired."""
        query = select(table).where(_this(team_id, response_id) & (table.c.expires_at > now))
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return Kept(
            id=row.id,
            response_json=bytes(row.response_json).decode(),
            input_json=bytes(row.input_json).decode(),
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    async def delete(self, team_id: str, response_id: str, now: datetime) -> bool:
        """Delete the team's live response of that id; whether there was one."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(table).where(_this(team_id, response_id) & (table.c.expires_at > now))
            )
        return bool(result.rowcount)

    async def sweep(self, now: datetime) -> int:
        """Delete the expired rows; how many."""
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(table).where(table.c.expires_at <= now))
        return int(result.rowcount or 0)
