"""The request log in SQL; owns the sessions and transactions."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import RowMapping, and_, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common import inbox as inbox_ops

from tollgate_activity.models import inbox, request_log
from tollgate_activity.service import ENTRY_FIELDS, Cursor, RequestFilter, RequestLogEntry

USAGE_CONSUMER = "activity-usage"


class RequestLogRepository:
    """Implements :class:`tollgate_activity.service.RequestLogStore`."""

    def __init__(self, engine: AsyncEngine, consumer: str = USAGE_CONSUMER) -> None:
        self._engine = engine
        self._consumer = consumer

    async def record(self, entry: RequestLogEntry) -> bool:
        # The generation id is the fact's idempotency key (its Nats-Msg-Id): claiming it and
        # inserting the row commit together, so a redelivered fact changes nothing.
        try:
            async with self._engine.begin() as conn:
                if not await inbox_ops.claim(conn, inbox, self._consumer, entry.generation_id):
                    return False
                await conn.execute(insert(request_log).values(**asdict(entry)))
        except IntegrityError:
            # A concurrent delivery of the same fact committed its claim first.
            if await self._claimed(entry.generation_id):
                return False
            raise
        return True

    async def _claimed(self, msg_id: str) -> bool:
        query = select(inbox.c.msg_id).where(
            inbox.c.consumer == self._consumer, inbox.c.msg_id == msg_id
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def list_page(
        self, team_id: str, request_filter: RequestFilter, after: Cursor | None, limit: int
    ) -> list[RequestLogEntry]:
        c = request_log.c
        query = select(request_log).where(c.team_id == team_id)
        for column, value in (
            (c.model, request_filter.model),
            (c.provider, request_filter.provider),
            (c.project_id, request_filter.project_id),
        ):
            if value:
                query = query.where(column == value)
        if after is not None:
            # Keyset pagination on (created_at, generation_id), both descending.
            query = query.where(
                or_(
                    c.created_at < after.created_at,
                    and_(c.created_at == after.created_at, c.generation_id < after.generation_id),
                )
            )
        query = query.order_by(c.created_at.desc(), c.generation_id.desc()).limit(limit)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_entry(row) for row in rows]


def _entry(row: RowMapping) -> RequestLogEntry:
    return RequestLogEntry(**{name: row[name] for name in ENTRY_FIELDS})
