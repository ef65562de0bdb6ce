"""SQL of the ``idempotency_keys`` table; owns its transactions. A claim is an INSERT: the
primary key (team, key) lets exactly one writer in, on every replica of the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tollgate_router.models import idempotency_keys as table

RUNNING = "running"
DONE = "done"


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What a (team, key) holds: the fingerprint of its request, and its answer once done."""

    fingerprint: str
    status: str
    answer: bytes | None


def _this(team_id: str, key: str) -> ColumnElement[bool]:
    return (table.c.team_id == team_id) & (table.c.key == key)


class IdempotencyRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def insert(
        self,
        team_id: str,
        key: str,
        fingerprint: str,
        owner: str,
        now: datetime,
        until: datetime,
    ) -> bool:
        """Claim (team, key) as ``running`` for ``owner`` until ``until``; False when a row is
        there already (an expired one is removed first, so its key can be claimed again)."""
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(table).where(_this(team_id, key) & (table.c.expires_at <= now))
            )
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(table).values(
                        team_id=team_id,
                        key=key,
                        fingerprint=fingerprint,
                        status=RUNNING,
                        owner=owner,
                        answer=None,
                        created_at=now,
                        expires_at=until,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def get(self, team_id: str, key: str, now: datetime) -> KeyRecord | None:
        """The live row of (team, key); None when there is none or it expired."""
        query = select(table.c.fingerprint, table.c.status, table.c.answer).where(
            _this(team_id, key) & (table.c.expires_at > now)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else KeyRecord(row.fingerprint, row.status, row.answer)

    async def keep(
        self, team_id: str, key: str, owner: str, answer: bytes, until: datetime
    ) -> None:
        """``owner``'s claim becomes ``done`` with ``answer``, kept until ``until``."""
        async with self._engine.begin() as conn:
            await conn.execute(
                update(table)
                .where(_this(team_id, key) & (table.c.owner == owner))
                .values(status=DONE, answer=answer, expires_at=until)
            )

    async def release(self, team_id: str, key: str, owner: str) -> None:
        """``owner``'s claim is dropped while still running (nothing to keep)."""
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(table).where(
                    _this(team_id, key) & (table.c.owner == owner) & (table.c.status == RUNNING)
                )
            )

    async def sweep(self, now: datetime) -> int:
        """Delete the expired rows; how many."""
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(table).where(table.c.expires_at <= now))
        return int(result.rowcount or 0)
