"""Consumer idempotency: a message id is stored in the same transaction as its effect."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    TextClause,
    text,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tollgate_common.bulk import BulkInsert, Row, unnest_select

__all__ = [
    "IdempotentWriter",
    "Row",
    "Stored",
    "claim",
    "claim_many",
    "inbox_table",
    "refuses_values",
]

log = logging.getLogger(__name__)


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

    One ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (not a SELECT of the claimed ids, then an
    INSERT of the others: with hundreds of ids that SELECT gets a generic plan on PostgreSQL
    after five runs, which filters every claim of the consumer). On PostgreSQL the ids travel
    as one array, so every batch is the same prepared statement. A concurrent transaction
    claiming the same id makes this one wait for its outcome: committed, the id counts as
    claimed before; rolled back, it is claimed here.
    """
    wanted = list(dict.fromkeys(msg_ids))
    if not wanted:
        return set()
    now = datetime.now(UTC)
    if conn.dialect.name == "postgresql":
        result = await conn.execute(
            _pg_claim(table, conn.dialect), {"consumer": consumer, "now": now, "c_msg_id": wanted}
        )
    else:
        statement = (
            sqlite_insert(table)
            .on_conflict_do_nothing(index_elements=["consumer", "msg_id"])
            .returning(table.c.msg_id)
        )
        result = await conn.execute(
            statement,
            [{"consumer": consumer, "msg_id": msg_id, "processed_at": now} for msg_id in wanted],
        )
    return set(result.scalars())


def _pg_claim(table: Table, dialect: Dialect) -> TextClause:
    target = dialect.identifier_preparer.format_table(table)
    ids = unnest_select(table, ["msg_id"], dialect)
    return text(  # names from the table's metadata; values bound
        f"INSERT INTO {target} (consumer, msg_id, processed_at) "  # noqa: S608
        f"SELECT :consumer, batch.msg_id, :now FROM ({ids}) AS batch "
        "ON CONFLICT (consumer, msg_id) DO NOTHING RETURNING msg_id"
    )


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


@dataclass(frozen=True)
class IdempotentWriter:
    """Inserts one row per message into ``table``, each at most once per ``consumer``."""

    engine: AsyncEngine
    inbox: Table
    consumer: str
    table: Table
    _insert: BulkInsert = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_insert", BulkInsert(self.table, self.engine.dialect))

    async def insert(self, msg_id: str, row: Row) -> bool:
        """Claim ``msg_id`` and insert ``row`` in one transaction; False if it was claimed.

        Raises SQLAlchemyError: see :func:`refuses_values` for those retrying cannot help."""
        [stored] = await self._insert_batch([(msg_id, row)])
        return stored is Stored.NEW

    async def insert_many(self, rows: Sequence[tuple[str, Row]]) -> list[Stored]:
        """Claim the message ids and insert the rows of those not claimed before, all in one
        transaction; one :class:`Stored` per row, in order.

        When the batch fails on a constraint of the table (IntegrityError: claims themselves
        never conflict, see :func:`claim_many`) or on values the database refuses
        (:func:`refuses_values`), each row is retried in its own transaction, so the good rows
        are stored and only the refused ones come back REJECTED. Other SQLAlchemyErrors
        propagate: the whole batch may be retried later (what was committed is then a
        duplicate).
        """
        if not rows:
            return []
        try:
            return await self._insert_batch(rows)
        except IntegrityError:
            log.warning(
                "%s: a row of a batch of %d conflicts with a stored one; storing one by one",
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
                await self.apply(conn, new_rows)
        return results

    async def apply(self, conn: AsyncConnection, rows: Sequence[Row]) -> None:
        """Store the rows of newly claimed messages, inside the claims' transaction. A
        subclass that keeps more per row (aggregates, …) extends this."""
        await self._insert(conn, rows)

    async def _insert_or_reject(self, msg_id: str, row: Row) -> Stored:
        try:
            return Stored.NEW if await self.insert(msg_id, row) else Stored.DUPLICATE
        except DBAPIError as exc:
            if not refuses_values(exc):
                raise
            log.error("%s: the database refuses message %s: %s", self.consumer, msg_id, exc.orig)
            return Stored.REJECTED
