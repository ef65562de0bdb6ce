"""The request log in SQL; owns the sessions and transactions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import RowMapping, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common.inbox import IdempotentWriter, Row, Stored

from tollgate_activity.models import inbox, request_log
from tollgate_activity.service import ENTRY_FIELDS, Cursor, RequestFilter, RequestLogEntry

USAGE_CONSUMER = "activity-usage"


class RequestLogRepository:
    """Implements :class:`tollgate_activity.service.RequestLogStore`."""

    def __init__(self, engine: AsyncEngine, consumer: str = USAGE_CONSUMER) -> None:
        self._engine = engine
        # The generation id is the fact's idempotency key (its Nats-Msg-Id): claiming it and
        # inserting the row commit together, so a redelivered fact changes nothing.
        self._writer = IdempotentWriter(engine, inbox, consumer, request_log)

    async def record(self, entry: RequestLogEntry) -> bool:
        return await self._writer.insert(entry.generation_id, _row(entry))

    async def record_many(self, entries: Sequence[RequestLogEntry]) -> list[Stored]:
        return await self._writer.insert_many([(e.generation_id, _row(e)) for e in entries])

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


def _row(entry: RequestLogEntry) -> Row:
    # Not dataclasses.asdict: that deep-copies every value, a cost paid per row.
    return {name: getattr(entry, name) for name in ENTRY_FIELDS}


def _entry(row: RowMapping) -> RequestLogEntry:
    return RequestLogEntry(**{name: row[name] for name in ENTRY_FIELDS})
