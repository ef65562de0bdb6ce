"""The request log and its rollups in SQL; owns the sessions and transactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, Table, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tollgate_common.inbox import IdempotentWriter, Row, Stored
from tollgate_common.money import parse_usd

from tollgate_activity.models import REQUEST_ROWS, inbox, request_log
from tollgate_activity.observability import ObservabilityQuery, Series
from tollgate_activity.pagination import Cursor, TimeRange
from tollgate_activity.rollup_store import apply_deltas, read_rollups
from tollgate_activity.rollups import RequestFacts, rollup_deltas
from tollgate_activity.service import RequestFilter, RequestLogEntry

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


def newest_first(
    table: Table,
    id_column: str,
    team_id: str,
    equal: Sequence[tuple[str, str]],
    time_range: TimeRange,
    after: Cursor | None,
    limit: int,
) -> Select[tuple[object, ...]]:
    """A page of ``team_id``'s rows of ``table``, newest first (ties by ``id_column``): those
    whose columns equal the non-empty values of ``equal``, created within ``time_range``,
    strictly after ``after`` (keyset pagination on (created_at, id), both descending)."""
    c = table.c
    created, item_id = c.created_at, c[id_column]
    query = select(table).where(c.team_id == team_id)
    query = query.where(*(c[name] == value for name, value in equal if value))
    if time_range.since is not None:
        query = query.where(created >= time_range.since)
    if time_range.until is not None:
        query = query.where(created < time_range.until)
    if after is not None:
        query = query.where(
            or_(created < after.created_at, and_(created == after.created_at, item_id < after.id))
        )
    return query.order_by(created.desc(), item_id.desc()).limit(limit)


class RequestLogRepository:
    """Implements :class:`tollgate_activity.service.RequestLogStore`."""

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

    async def read_rollups(self, query: ObservabilityQuery) -> list[Series]:
        async with self._engine.connect() as conn:
            return await read_rollups(conn, query)

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
