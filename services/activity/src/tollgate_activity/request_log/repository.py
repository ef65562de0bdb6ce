"""The request log in SQL (each new row added to its rollups in the same transaction); owns the
sessions and transactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tollgate_common.inbox import IdempotentWriter, Row, Stored
from tollgate_common.money import parse_usd

from tollgate_activity.keyset import newest_first
from tollgate_activity.models import REQUEST_ROWS, inbox, request_log
from tollgate_activity.pagination import Cursor
from tollgate_activity.request_log.service import RequestFilter, RequestLogEntry
from tollgate_activity.rollups.buckets import RequestFacts, rollup_deltas
from tollgate_activity.rollups.repository import apply_deltas

USAGE_CONSUMER = "activity-usage"
# Rows per DELETE of the retention sweep: short transactions, no long lock on the table.
DELETE_CHUNK = 5000


@dataclass(frozen=True)
class RollingWriter(IdempotentWriter):
    """An :class:`IdempotentWriter` that also adds each new row to its rollups, in the same
    transaction as the row and its claim: a fact counts once, or not at all."""

    async def apply(self, conn: AsyncConnection, rows: Sequence[Row]) -> None:
        await super().apply(conn, rows)
        await apply_deltas(conn, rollup_deltas(request_facts(row) for row in rows))


class RequestLogRepository:
    """Implements :class:`tollgate_activity.request_log.service.RequestLog`."""

    def __init__(self, engine: AsyncEngine, consumer: str = USAGE_CONSUMER) -> None:
        self._engine = engine
        # The generation id is the fact's idempotency key (its Nats-Msg-Id): claiming it,
        # inserting the row and adding it to the rollups commit together, so a redelivered
        # fact changes nothing.
        self._writer = RollingWriter(engine, inbox, consumer, request_log)

    async def record(self, entry: RequestLogEntry) -> bool:
        return await self._writer.insert(entry.generation_id, REQUEST_ROWS.row(entry))

    async def record_many(self, entries: Sequence[RequestLogEntry]) -> list[Stored]:
        rows = [(e.generation_id, REQUEST_ROWS.row(e)) for e in entries]
        return await self._writer.insert_many(rows)

    async def list_page(
        self, team_id: str, request_filter: RequestFilter, after: Cursor | None, limit: int
    ) -> list[RequestLogEntry]:
        query = newest_first(
            request_log,
            "generation_id",
            team_id,
            (
                ("model", request_filter.model),
                ("provider", request_filter.provider),
                ("project_id", request_filter.project_id),
            ),
            request_filter.time_range,
            after,
            limit,
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
            completed = await REQUEST_ROWS.completed(conn, rows)
        return [REQUEST_ROWS.record(row) for row in completed]

    async def delete_before(self, cutoff: datetime, inbox_cutoff: datetime) -> int:
        """Delete request rows created before ``cutoff`` (rollups stay) and this consumer's
        claims older than ``inbox_cutoff``, a chunk per transaction; the rows deleted."""
        c = request_log.c
        deleted = 0
        while True:
            oldest = (
                select(c.generation_id).where(c.created_at < cutoff).limit(DELETE_CHUNK)
            ).scalar_subquery()
            async with self._engine.begin() as conn:
                result = await conn.execute(delete(request_log).where(c.generation_id.in_(oldest)))
            deleted += result.rowcount
            if result.rowcount < DELETE_CHUNK:
                break
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(inbox).where(
                    inbox.c.consumer == self._writer.consumer,
                    inbox.c.processed_at < inbox_cutoff,
                )
            )
        return deleted


def request_facts(row: Row) -> RequestFacts:
    """What the rollups count of a request row being stored."""
    fact = REQUEST_ROWS.fact(row)
    created_at = row["created_at"]
    assert isinstance(created_at, datetime)
    return RequestFacts(
        fact.team_id,
        fact.project_id,
        fact.model,
        created_at,
        fact.status,
        fact.ttft_ms,
        fact.input_tokens,
        fact.output_tokens,
        parse_usd(fact.cost),
    )
