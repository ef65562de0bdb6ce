"""Outbox: usage and activity facts reach JetStream even while NATS is down.

``Outbox.put`` is cheap and never blocks the hot path. A relay task takes what was put in
batches and publishes it (with ``Nats-Msg-Id``); whatever JetStream has not acknowledged within
the publish timeout — NATS down, slow or not connected yet — is written to the producer's
``outbox`` table in one transaction and published from there, oldest first, once the bus takes
it again (also after a restart).

Facts are not written to the table before a first publish attempt: the router has no database
transaction for the fact to join, so writing first would buy no atomicity, and at a JetStream
ack (stored on disk) the fact is as durable as it would be in the table. Either way a fact is
lost only if the process dies in the moment between ``put`` and the ack or the write. Skipping
the write keeps two SQL transactions per request off a 2-core machine (measured: ~1 ms of
router CPU per request at 32 concurrent requests, ~2 ms at 1).
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
    # Message headers besides Nats-Msg-Id, e.g. the trace context (``traceparent``). Not kept
    # in the table: a fact published from the backlog travels without them.
    headers: tuple[tuple[str, str], ...] = ()


class Outbox:
    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        *,
        publish_timeout: float = 2.0,
        linger_seconds: float = 0.005,
        batch_size: int = 500,
        retry_seconds: float = 1.0,
    ) -> None:
        self._engine = engine
        self._table = table
        self._publish_timeout = publish_timeout
        self._linger_seconds = linger_seconds
        self._batch_size = batch_size
        self._retry_seconds = retry_seconds
        self._pending: list[Fact] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._bus: Bus | None = None

    def connect(self, bus: Bus) -> None:
        """Publish on ``bus`` from now on (until then facts wait in the table); the service
        runtime calls this once its NATS link is up."""
        self._bus = bus
        self._wake.set()

    def put(self, fact: Fact) -> None:
        self._pending.append(fact)
        self._wake.set()

    async def run(self) -> None:
        """The relay loop; stops after :meth:`close` once everything put is published or stored."""
        backlog = True  # rows of an earlier run may be waiting
        while True:
            if not self._pending and not self._closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._retry_seconds)
                if self._pending and self._linger_seconds:
                    # Let the request that put the fact finish first, and more facts gather.
                    await asyncio.sleep(self._linger_seconds)
            self._wake.clear()
            facts, self._pending = self._pending, []
            unpublished = await self._publish(facts)
            try:
                if unpublished:
                    await self._store(unpublished)
                    backlog = True
                elif backlog and self._bus is not None:
                    backlog = await self._publish_backlog()
            except Exception:
                log.exception("outbox: cannot reach its table; retrying")
                self._pending[:0] = unpublished
                backlog = True
                await asyncio.sleep(self._retry_seconds)
            if self._closing and not self._pending:
                return

    async def close(self) -> None:
        self._closing = True
        self._wake.set()

    async def _publish(self, facts: list[Fact]) -> list[Fact]:
        """Publish ``facts`` at once; returns those JetStream did not acknowledge."""
        bus = self._bus
        if bus is None or not facts:
            return facts
        results = await asyncio.gather(
            *(self._publish_one(bus, f) for f in facts), return_exceptions=True
        )
        failed = [f for f, r in zip(facts, results, strict=True) if isinstance(r, BaseException)]
        if failed:
            log.warning("outbox: %d facts not published; keeping them for later", len(failed))
        return failed

    async def _publish_one(self, bus: Bus, fact: Fact) -> None:
        await asyncio.wait_for(
            bus.publish(fact.subject, fact.payload, fact.msg_id, dict(fact.headers) or None),
            timeout=self._publish_timeout,
        )

    async def _store(self, facts: list[Fact]) -> None:
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(self._table),
                [
                    {
                        "subject": f.subject,
                        "msg_id": f.msg_id,
                        "payload": f.payload,
                        "created_at": now,
                    }
                    for f in facts
                ],
            )

    async def _publish_backlog(self) -> bool:
        """Publish stored rows oldest first and delete them; True while more remain."""
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
        failed = await self._publish([fact for _, fact in rows])
        failed_ids = {fact.msg_id for fact in failed}
        done = [row_id for row_id, fact in rows if fact.msg_id not in failed_ids]
        if done:
            async with self._engine.begin() as conn:
                await conn.execute(delete(self._table).where(self._table.c.id.in_(done)))
        return bool(failed) or len(rows) == self._batch_size
