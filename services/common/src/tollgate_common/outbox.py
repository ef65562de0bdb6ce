"""Transactional outbox: facts are written to the producer's database, then published.

``Outbox.put`` is cheap and never blocks the hot path. A relay task writes what was put to the
``outbox`` table in one transaction per batch, publishes the rows to JetStream (with
``Nats-Msg-Id``) and deletes them. Rows left behind by a crash or a NATS outage are published
when the relay next runs, so a fact is lost only if the process dies within one flush interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from tollgate_common.bus import Bus

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("subject", String(200), nullable=False),
        Column("msg_id", String(100), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


@dataclass(frozen=True)
class Fact:
    subject: str
    msg_id: str
    payload: bytes


class Outbox:
    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        *,
        flush_interval: float = 0.01,
        batch_size: int = 500,
        retry_seconds: float = 1.0,
    ) -> None:
        self._engine = engine
        self._table = table
        self._flush_interval = flush_interval
        self._batch_size = batch_size
        self._retry_seconds = retry_seconds
        self._pending: list[Fact] = []
        self._wake = asyncio.Event()
        self._closing = False
        self.bus: Bus | None = None

    def put(self, fact: Fact) -> None:
        self._pending.append(fact)
        self._wake.set()

    async def run(self) -> None:
        """The relay loop; stops after :meth:`close` once everything put has been stored."""
        backlog = True  # rows of an earlier run may be waiting
        while True:
            if not self._closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._retry_seconds)
                await asyncio.sleep(self._flush_interval)  # let a batch gather
            self._wake.clear()
            try:
                written = await self._store_pending()
                if backlog:
                    backlog = await self._publish_backlog()
                elif written:
                    backlog = not await self._publish_rows(written)
            except Exception:
                log.exception("outbox relay failed; retrying")
                backlog = True
            if self._closing and not self._pending:
                return

    async def close(self) -> None:
        self._closing = True
        self._wake.set()

    async def _store_pending(self) -> list[tuple[int, Fact]]:
        if not self._pending:
            return []
        facts, self._pending = self._pending, []
        now = datetime.now(UTC)
        rows: list[tuple[int, Fact]] = []
        async with self._engine.begin() as conn:
            for start in range(0, len(facts), self._batch_size):
                chunk = facts[start : start + self._batch_size]
                result = await conn.execute(
                    insert(self._table).returning(self._table.c.id),
                    [
                        {
                            "subject": f.subject,
                            "msg_id": f.msg_id,
                            "payload": f.payload,
                            "created_at": now,
                        }
                        for f in chunk
                    ],
                )
                rows.extend(zip(result.scalars().all(), chunk, strict=True))
        return rows

    async def _publish_rows(self, rows: list[tuple[int, Fact]]) -> bool:
        """Publish ``rows`` and delete the ones acknowledged; True if all went out."""
        bus = self.bus
        if bus is None or not rows:
            return not rows
        results = await asyncio.gather(
            *(bus.publish(f.subject, f.payload, f.msg_id) for _, f in rows), return_exceptions=True
        )
        done = [
            row_id
            for (row_id, _), r in zip(rows, results, strict=True)
            if not isinstance(r, BaseException)
        ]
        if done:
            async with self._engine.begin() as conn:
                await conn.execute(delete(self._table).where(self._table.c.id.in_(done)))
        failed = len(rows) - len(done)
        if failed:
            log.warning("outbox: %d facts not published yet; will retry", failed)
        return failed == 0

    async def _publish_backlog(self) -> bool:
        """Publish stored rows oldest first; True while more remain to be published."""
        async with self._engine.connect() as conn:
            result = await conn.execute(
                select(
                    self._table.c.id,
                    self._table.c.subject,
                    self._table.c.msg_id,
                    self._table.c.payload,
                )
                .order_by(self._table.c.id)
                .limit(self._batch_size)
            )
            rows = [(r.id, Fact(r.subject, r.msg_id, r.payload)) for r in result]
        if not rows:
            return False
        ok = await self._publish_rows(rows)
        return not ok or len(rows) == self._batch_size
