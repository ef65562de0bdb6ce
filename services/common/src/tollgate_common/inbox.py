"""Consumer idempotency: a message id is stored in the same transaction as its effect."""

from __future__ import annotations

from datetime import UTC, datetime

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
from sqlalchemy.ext.asyncio import AsyncConnection


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("msg_id", String(100), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("consumer", "msg_id"),
    )


async def claim(conn: AsyncConnection, table: Table, consumer: str, msg_id: str) -> bool:
    """Record ``msg_id`` as processed by ``consumer``; False if it already was.

    Call inside the transaction that applies the message, so both commit or neither does.
    """
    seen = await conn.execute(
        select(table.c.msg_id).where(table.c.consumer == consumer, table.c.msg_id == msg_id)
    )
    if seen.first() is not None:
        return False
    await conn.execute(
        insert(table).values(consumer=consumer, msg_id=msg_id, processed_at=datetime.now(UTC))
    )
    return True
