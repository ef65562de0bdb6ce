"""Consumer idempotency: a message id is stored in the same transaction as its effect."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    insert,
    select,
)
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# Ids per IN list: far below every database's limit on bound parameters.
CLAIM_CHUNK = 500


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("msg_id", String(100), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("consumer", "msg_id"),
    )


async def claim_many(
    conn: AsyncConnection, table: Table, consumer: str, msg_ids: Iterable[str]
) -> set[str]:
    """Record each of ``msg_ids`` as processed by ``consumer``; returns those not claimed before.

    Call inside the transaction that applies the messages, so claims and effects commit
    together. An id repeated in ``msg_ids`` is claimed once.
    """
    wanted = list(dict.fromkeys(msg_ids))
    seen: set[str] = set()
    for start in range(0, len(wanted), CLAIM_CHUNK):
        chunk = wanted[start : start + CLAIM_CHUNK]
        result = await conn.execute(
            select(table.c.msg_id).where(table.c.consumer == consumer, table.c.msg_id.in_(chunk))
        )
        seen.update(result.scalars())
    new = [msg_id for msg_id in wanted if msg_id not in seen]
    if new:
        now = datetime.now(UTC)
        await conn.execute(
            insert(table),
            [{"consumer": consumer, "msg_id": msg_id, "processed_at": now} for msg_id in new],
        )
    return set(new)


async def claim(conn: AsyncConnection, table: Table, consumer: str, msg_id: str) -> bool:
    """Record ``msg_id`` as processed by ``consumer``; False if it already was.

    Call inside the transaction that applies the message, so both commit or neither does.
    """
    return msg_id in await claim_many(conn, table, consumer, (msg_id,))


def refuses_values(exc: DBAPIError) -> bool:
    """Whether the database refused the values themselves (retrying cannot help).

    PostgreSQL's SQLSTATE class 22 ("data exception": a NUL character, a numeric overflow, …);
    SQLAlchemy's asyncpg dialect raises those as a plain DBAPIError, not as DataError."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(exc, DataError) or (isinstance(sqlstate, str) and sqlstate[:2] == "22")


class Stored(Enum):
    """What became of one message's row."""

    NEW = "new"  # inserted now
    DUPLICATE = "duplicate"  # its message id was claimed before (or earlier in the same batch)
    REJECTED = "rejected"  # the database refuses its values: retrying cannot help


Row = Mapping[str, object]


@dataclass(frozen=True)
class IdempotentWriter:
    """Inserts one row per message into ``table``, each at most once per ``consumer``."""

    engine: AsyncEngine
    inbox: Table
    consumer: str
    table: Table

    async def insert(self, msg_id: str, row: Row) -> bool:
        """Claim ``msg_id`` and insert ``row`` in one transaction; False if it was claimed.

        Raises SQLAlchemyError: see :func:`refuses_values` for those retrying cannot help."""
        try:
            async with self.engine.begin() as conn:
                if not await claim(conn, self.inbox, self.consumer, msg_id):
                    return False
                await conn.execute(insert(self.table), row)
        except IntegrityError:
            # A concurrent delivery of the same message committed its claim first.
            if await self.claimed(msg_id):
                return False
            raise
        return True

    async def insert_many(self, rows: Sequence[tuple[str, Row]]) -> list[Stored]:
        """Claim the message ids and insert the rows of those not claimed before, all in one
        transaction; one :class:`Stored` per row, in order.

        When the batch fails on a concurrent claim (IntegrityError) or on values the database
        refuses (:func:`refuses_values`), each row is retried in its own transaction, so the good rows are
        stored and only the refused ones come back REJECTED. Other SQLAlchemyErrors propagate:
        the whole batch may be retried later (what was committed is then a duplicate).
        """
        if not rows:
            return []
        try:
            return await self._insert_batch(rows)
        except IntegrityError:
            log.info(
                "%s: a concurrent delivery raced a batch of %d; storing one by one",
                self.consumer,
                len(rows),
            )
        except DBAPIError as exc:
            if not refuses_values(exc):
                raise
            log.warning(
                "%s: the database refused a value in a batch of %d; storing one by one",
                self.consumer,
                len(rows),
            )
        return [await self._insert_or_reject(msg_id, row) for msg_id, row in rows]

    async def _insert_batch(self, rows: Sequence[tuple[str, Row]]) -> list[Stored]:
        results: list[Stored] = []
        new_rows: list[Row] = []
        async with self.engine.begin() as conn:
            unclaimed = await claim_many(conn, self.inbox, self.consumer, (m for m, _ in rows))
            for msg_id, row in rows:
                if msg_id in unclaimed:
                    unclaimed.discard(msg_id)  # a repeat later in this batch is a duplicate
                    new_rows.append(row)
                    results.append(Stored.NEW)
                else:
                    results.append(Stored.DUPLICATE)
            if new_rows:
                await conn.execute(insert(self.table), new_rows)
        return results

    async def _insert_or_reject(self, msg_id: str, row: Row) -> Stored:
        try:
            return Stored.NEW if await self.insert(msg_id, row) else Stored.DUPLICATE
        except DBAPIError as exc:
            if not refuses_values(exc):
                raise
            log.error("%s: the database refuses message %s: %s", self.consumer, msg_id, exc.orig)
            return Stored.REJECTED

    async def claimed(self, msg_id: str) -> bool:
        query = select(self.inbox.c.msg_id).where(
            self.inbox.c.consumer == self.consumer, self.inbox.c.msg_id == msg_id
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).first() is not None
