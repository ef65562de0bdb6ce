"""Rate limits in SQL, and the admissions counted against them.

An admission locks the rows of the limits that apply to the request (``SELECT ... FOR UPDATE``
on PostgreSQL, in scope order so that two admissions never wait on each other in a cycle),
checks them, then counts the request in each and takes its slot, all in one transaction: the
counts are exact however many billing replicas share the database. SQLite has no row locks;
one billing process owns a SQLite file, so this repository runs its admissions one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tollgate_billing.budgets.budget import Scope
from tollgate_billing.errors import RateLimited
from tollgate_billing.limits.limit import (
    RateLimit,
    Status,
    Window,
    applies,
    current,
    refusal,
    status,
    window_start,
)
from tollgate_billing.models import rate_limit_slots, rate_limits


@dataclass(frozen=True, slots=True)
class Request:
    """A request asking to be admitted: who sends it, its slot and its estimated tokens."""

    team_id: str
    project_id: str
    key_id: str
    slot_id: str
    tokens: int


def _limit(row: RowMapping) -> RateLimit:
    return RateLimit(
        team_id=row["team_id"],
        scope=Scope(row["scope"]),
        scope_id=row["scope_id"],
        requests_per_minute=row["requests_per_minute"],
        tokens_per_minute=row["tokens_per_minute"],
        concurrent_requests=row["concurrent_requests"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _key(team_id: str, scope: Scope, scope_id: str) -> ColumnElement[bool]:
    r = rate_limits.c
    return (r.team_id == team_id) & (r.scope == scope.value) & (r.scope_id == scope_id)


class RateLimitRepository:
    def __init__(self, engine: AsyncEngine, slot_seconds: float) -> None:
        self._engine = engine
        self._slot_ttl = timedelta(seconds=slot_seconds)
        self._serial = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    async def all(self, team_id: str) -> list[RateLimit]:
        query = select(rate_limits).where(rate_limits.c.team_id == team_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return sorted((_limit(row) for row in rows), key=RateLimit.sort_key)

    async def put(self, limit: RateLimit) -> tuple[RateLimit, bool]:
        """Create or replace; returns the stored limit and whether it is new. A replaced
        limit keeps what its window counted."""
        key = _key(limit.team_id, limit.scope, limit.scope_id)
        values = {
            "requests_per_minute": limit.requests_per_minute,
            "tokens_per_minute": limit.tokens_per_minute,
            "concurrent_requests": limit.concurrent_requests,
            "updated_at": limit.updated_at,
        }
        async with self._admitting(), self._engine.begin() as conn:
            found = (await conn.execute(select(rate_limits.c.created_at).where(key))).first()
            if found is not None:
                await conn.execute(update(rate_limits).where(key).values(**values))
                return replace(limit, created_at=found[0]), False
            await conn.execute(
                insert(rate_limits).values(
                    team_id=limit.team_id,
                    scope=limit.scope.value,
                    scope_id=limit.scope_id,
                    window_start=window_start(limit.created_at),
                    window_requests=0,
                    window_tokens=0,
                    created_at=limit.created_at,
                    **values,
                )
            )
        return limit, True

    async def delete(self, team_id: str, scope: Scope, scope_id: str) -> RateLimit | None:
        key = _key(team_id, scope, scope_id)
        async with self._admitting(), self._engine.begin() as conn:
            row = (await conn.execute(select(rate_limits).where(key))).mappings().first()
            if row is None:
                return None
            await conn.execute(delete(rate_limits).where(key))
        return _limit(row)

    async def admit(self, request: Request, at: datetime) -> Status | None:
        """Count ``request`` against every limit that applies to it and take its slot; None
        when none applies (nothing is counted). Raises :class:`RateLimited` naming the first
        limit without room (nothing is counted then either)."""
        r, s = rate_limits.c, rate_limit_slots.c
        scopes = or_(
            (r.scope == Scope.TEAM.value) & (r.scope_id == request.team_id),
            (r.scope == Scope.PROJECT.value) & (r.scope_id == request.project_id),
            (r.scope == Scope.KEY.value) & (r.scope_id == request.key_id),
        )
        query = (
            select(rate_limits)
            .where(r.team_id == request.team_id, scopes)
            .order_by(r.scope, r.scope_id)
            .with_for_update()
        )
        async with self._admitting(), self._engine.begin() as conn:
            rows = (await conn.execute(query)).mappings().all()
            found = [
                (_limit(row), row)
                for row in rows
                if applies(_limit(row), request.project_id, request.key_id)
            ]
            if not found:
                return None
            await conn.execute(
                delete(rate_limit_slots).where(s.team_id == request.team_id, s.expires_at <= at)
            )
            counted: list[tuple[RateLimit, Window]] = []
            for limit, row in found:
                window = current(
                    Window(
                        row["window_start"],
                        row["window_requests"],
                        row["window_tokens"],
                        await self._running(conn, limit),
                    ),
                    at,
                )
                refused = refusal(limit, window, request.tokens, at)
                if refused is not None:
                    raise RateLimited(refused.message, metadata=refused.metadata())
                counted.append((limit, window))
            start = window_start(at)
            for limit, window in counted:
                await conn.execute(
                    update(rate_limits)
                    .where(_key(limit.team_id, limit.scope, limit.scope_id))
                    .values(
                        window_start=start,
                        window_requests=window.requests + 1,
                        window_tokens=window.tokens + request.tokens,
                    )
                )
            await conn.execute(
                insert(rate_limit_slots).values(
                    id=request.slot_id,
                    team_id=request.team_id,
                    project_id=request.project_id,
                    key_id=request.key_id,
                    window_start=start,
                    tokens=request.tokens,
                    expires_at=at + self._slot_ttl,
                )
            )
        after = [
            (lim, Window(w.start, w.requests + 1, w.tokens + request.tokens, w.running + 1))
            for lim, w in counted
        ]
        return status(after, at)

    async def finish(self, team_id: str, slot_id: str, tokens: int) -> None:
        """Free the slot and count the request's tokens at what it used, in the window it was
        admitted in (a window that has passed is left alone)."""
        r, s = rate_limits.c, rate_limit_slots.c
        async with self._admitting(), self._engine.begin() as conn:
            slot = (
                (
                    await conn.execute(
                        select(rate_limit_slots).where(s.id == slot_id, s.team_id == team_id)
                    )
                )
                .mappings()
                .first()
            )
            if slot is None:
                return
            await conn.execute(delete(rate_limit_slots).where(s.id == slot_id))
            delta = tokens - slot["tokens"]
            if not delta:
                return
            scopes = or_(
                (r.scope == Scope.TEAM.value) & (r.scope_id == team_id),
                (r.scope == Scope.PROJECT.value) & (r.scope_id == slot["project_id"]),
                (r.scope == Scope.KEY.value) & (r.scope_id == slot["key_id"]),
            )
            counted = (
                r.team_id == team_id,
                scopes,
                r.window_start == slot["window_start"],
                r.tokens_per_minute > 0,
            )
            # Lock the rows in the order admissions do, so the two never deadlock.
            await conn.execute(
                select(r.scope).where(*counted).order_by(r.scope, r.scope_id).with_for_update()
            )
            tokens_now = r.window_tokens + delta
            await conn.execute(
                update(rate_limits)
                .where(*counted)
                .values(window_tokens=case((tokens_now < 0, 0), else_=tokens_now))
            )

    @property
    def slot_seconds(self) -> float:
        return self._slot_ttl.total_seconds()

    async def renew(self, slots: Sequence[tuple[str, str]], at: datetime) -> int:
        """Extend the live ``slots`` ((team id, slot id) pairs) by the slot lifetime from
        ``at``; how many were still held."""
        if not slots:
            return 0
        s = rate_limit_slots.c
        pairs = or_(*((s.team_id == team_id) & (s.id == slot_id) for team_id, slot_id in slots))
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(rate_limit_slots)
                .where(pairs, s.expires_at > at)
                .values(expires_at=at + self._slot_ttl)
            )
        return int(result.rowcount or 0)

    async def _running(self, conn: AsyncConnection, limit: RateLimit) -> int:
        """The requests of ``limit``'s scope running now (read under its row lock)."""
        s = rate_limit_slots.c
        column = {Scope.TEAM: s.team_id, Scope.PROJECT: s.project_id, Scope.KEY: s.key_id}
        where = and_(s.team_id == limit.team_id, column[limit.scope] == limit.scope_id)
        count = await conn.scalar(select(func.count()).select_from(rate_limit_slots).where(where))
        return int(count or 0)

    @contextlib.asynccontextmanager
    async def _admitting(self) -> AsyncIterator[None]:
        if self._serial is None:
            yield
            return
        async with self._serial:
            yield
