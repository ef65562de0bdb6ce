"""Outbox: usage and activity facts reach JetStream even while NATS is down, and a fact whose
producer waited for it (:meth:`Outbox.deliver`) survives a kill -9 of the producer.

A relay task takes what was put in batches and publishes it (with ``Nats-Msg-Id``); whatever
JetStream has not acknowledged within the publish timeout — NATS down, slow or not connected
yet — is written to the producer's ``outbox`` table in one transaction and published from
there, oldest first, once the bus takes it again (also after a restart).

Two ways in:

* :meth:`Outbox.put` never blocks: the fact is in memory until the ack or the write, so a
  kill -9 in that moment loses it (activity facts of auth and billing, whose loss costs nobody
  money).
* :meth:`Outbox.deliver` returns once the fact is durable: acknowledged by JetStream (a
  file-stored stream) or committed to the table. The router awaits it before the last byte of a
  generation goes out, so a generation whose answer reached the client is billed whatever
  process dies afterwards. While NATS is connected the caller's own task publishes the fact
  and waits for the ack (a detour through the relay task costs a generation about as much time
  again as the ack itself); what is not acknowledged within the publish timeout goes to the
  relay, which writes it to the table without publishing it a second time. When NATS is not
  connected the relay writes at once instead of waiting out the publish timeout.

With a :class:`~tollgate_common.fact_journal.FactJournal` (the router's, beside its SQLite
file) a fact is durable once appended to the journal (one ``write(2)``, as durable there as a
commit to that file): :meth:`Outbox.deliver` returns at once and the relay publishes the fact
after the answer went out; a fact is settled in the journal once JetStream acknowledged it or
the table has it. The segments of a producer killed before that are claimed by its successor's
relay when it starts, their facts stored in the table and published from there. Where the
journal cannot be written (a full disk) a fact takes the way above.

Memory is bounded: at most ``max_pending`` facts wait in memory (they pile up only while
neither NATS nor the table takes them); beyond that the oldest is dropped and counted as lost.
The relay counts what it published, stored and lost, and says so when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

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

from tollgate_common.fact import Fact as Fact  # where the producers import it from
from tollgate_common.fact_journal import FactJournal, Mark, Orphan

if TYPE_CHECKING:  # the migrations import the outbox table: they need no NATS client
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


@dataclass
class Tally:
    """What became of the facts put since the start: acknowledged by JetStream on the first
    try, written to the table (published from there later), dropped from memory."""

    published: int = 0
    stored: int = 0
    lost: int = 0
    cut: int = 0  # being published or written when the relay was cancelled: fate unknown
    backlog_published: int = 0  # rows of the table published (and deleted)
    kept: int = 0  # left in the fact journal at the stop (or dropped from memory): next start
    recovered: int = 0  # facts of a dead producer's journal stored in the table


@dataclass(eq=False)
class _Entry:
    fact: Fact
    durable: asyncio.Future[bool] | None = field(default=None)
    # Its producer published it and JetStream did not acknowledge it in time: written, not
    # published again (waiting out a second timeout would only delay the write).
    tried: bool = False
    mark: Mark | None = None  # where the fact is in the journal, until it is settled there

    def done(self, durable: bool) -> None:
        if self.durable is not None and not self.durable.done():
            self.durable.set_result(durable)
        if durable and self.mark is not None:
            self.mark.settle()
            self.mark = None


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
        max_pending: int = 10_000,
        durable_timeout: float = 10.0,
        journal: FactJournal | None = None,
    ) -> None:
        self._engine = engine
        self._journal = journal
        self._journal_failures = 0
        self._table = table
        self._publish_timeout = publish_timeout
        self._linger_seconds = linger_seconds
        self._batch_size = batch_size
        self._retry_seconds = retry_seconds
        self._max_pending = max_pending
        self._durable_timeout = durable_timeout
        self._pending: list[_Entry] = []
        self._in_flight: list[_Entry] = []  # taken by the relay, not acknowledged or stored yet
        self._direct = 0  # facts being published by their producer's own task (deliver)
        self._wake = asyncio.Event()
        self._closing = False
        self._bus: Bus | None = None
        self.tally = Tally()

    def connect(self, bus: Bus) -> None:
        """Publish on ``bus`` from now on (until then facts wait in the table); the service
        runtime calls this once its NATS link is up."""
        self._bus = bus
        self._wake.set()

    @property
    def pending(self) -> int:
        """Facts in memory that are neither acknowledged nor stored yet."""
        return len(self._in_flight) + len(self._pending)

    def put(self, fact: Fact) -> None:
        """Queue ``fact`` for the relay (in the journal first, if there is one); never blocks."""
        self._enqueue(_Entry(fact, mark=self._journaled(fact)))

    async def deliver(self, fact: Fact) -> bool:
        """Return once ``fact`` is durable (in the journal, acknowledged by JetStream or
        committed to the table); False if it is not within ``durable_timeout`` (NATS and the
        database both failing), in which case it stays queued in memory.

        Without a journal, while NATS is connected, the fact is published from here; one
        JetStream does not acknowledge within the publish timeout is handed to the relay to be
        written."""
        mark = self._journaled(fact)
        if mark is not None:
            self._enqueue(_Entry(fact, mark=mark))
            return True
        tried = False
        bus = self._bus
        if bus is not None and bus.nc.is_connected and not self._closing:
            self._direct += 1
            try:
                tried = True
                await self._publish_one(bus, fact)
                self.tally.published += 1
                return True
            except asyncio.CancelledError:
                self.put(fact)  # its producer is gone, not the fact (a repeat is dropped)
                raise
            except Exception:  # written by the relay, below
                log.debug("outbox: %s not acknowledged in time", fact.msg_id, exc_info=True)
            finally:
                self._direct -= 1
                if self._closing:
                    self._wake.set()  # the relay may be waiting for this one to stop
        entry = _Entry(fact, asyncio.get_running_loop().create_future(), tried)
        self._enqueue(entry)
        assert entry.durable is not None
        try:
            return await asyncio.wait_for(asyncio.shield(entry.durable), self._durable_timeout)
        except TimeoutError:
            log.error(
                "outbox: fact %s is not durable after %.1fs (NATS and the database both fail); "
                "it stays in memory",
                fact.msg_id,
                self._durable_timeout,
            )
            return False

    def _journaled(self, fact: Fact) -> Mark | None:
        """``fact`` appended to the journal; None without one, or when it cannot be written."""
        journal = self._journal
        if journal is None or not journal.is_open:
            return None
        try:
            return journal.append(fact)
        except OSError:
            self._journal_failures += 1
            if self._journal_failures == 1 or self._journal_failures % 1000 == 0:
                log.exception(
                    "outbox: cannot write the fact journal in %s (%d facts so far); they wait "
                    "for JetStream or the table instead",
                    journal.directory,
                    self._journal_failures,
                )
            return None

    def _enqueue(self, entry: _Entry) -> None:
        self._pending.append(entry)
        self._drop_excess()
        self._wake.set()

    def _drop_excess(self) -> None:
        """Keep at most ``max_pending`` facts in memory (those the relay holds included): the
        oldest beyond are lost."""
        while self._pending and self.pending > self._max_pending:
            dropped = self._pending.pop(0)
            dropped.done(False)
            if dropped.mark is not None:
                self.tally.kept += 1  # in the journal: stored from there at the next start
                continue
            self.tally.lost += 1
            if self.tally.lost == 1 or self.tally.lost % 1000 == 0:
                log.error(
                    "outbox: %d facts waiting in memory and neither NATS nor the database takes "
                    "them; dropping the oldest (%d lost so far)",
                    self.pending,
                    self.tally.lost,
                )

    async def run(self) -> None:
        """The relay loop; stops after :meth:`close` once everything put is published or
        stored (and says how many facts went where). With a journal, it first stores the facts
        of the journal segments a dead producer left."""
        orphans = self._journal.open() if self._journal is not None else []
        try:
            await self._store_orphans(orphans)
            await self._relay()
        finally:
            self._stopped()

    async def _store_orphans(self, orphans: list[Orphan]) -> None:
        assert self._journal is not None or not orphans
        for orphan in orphans:
            while orphan.facts and not self._closing:
                try:
                    await self._store(orphan.facts)
                except Exception:
                    log.exception("outbox: cannot store a dead producer's journal; retrying")
                    await asyncio.sleep(self._retry_seconds)
                    continue
                self.tally.recovered += len(orphan.facts)
                log.warning(
                    "outbox: %d facts of a producer that stopped before they were published "
                    "recovered from %s (stored in the table, published from there)",
                    len(orphan.facts),
                    orphan.segment.path.name,
                )
                break
            else:
                if self._closing:
                    return  # the segment stays: the next start claims it again
            assert self._journal is not None
            self._journal.forget(orphan)

    async def _relay(self) -> None:
        backlog = True  # rows of an earlier run may be waiting
        while True:
            if not self._pending and (not self._closing or self._direct):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._retry_seconds)
                if self._linger_seconds and self._pending and not self._awaited():
                    # Let the request that put the fact finish first, and more facts gather.
                    await asyncio.sleep(self._linger_seconds)
            self._wake.clear()
            self._in_flight = self._pending[: self._max_pending]
            del self._pending[: len(self._in_flight)]
            unpublished = self._in_flight = await self._publish_entries(self._in_flight)
            try:
                if unpublished:
                    await self._store([e.fact for e in unpublished])
                    self.tally.stored += len(unpublished)
                    for entry in unpublished:
                        entry.done(True)
                    self._in_flight = []
                    backlog = True
                elif backlog and self._bus is not None:
                    backlog = await self._publish_backlog()
            except Exception:
                log.exception("outbox: cannot reach its table; retrying")
                self._pending[:0] = unpublished
                self._in_flight = []
                self._drop_excess()
                backlog = True
                await asyncio.sleep(self._retry_seconds)
            if self._closing and not self._pending and not self._direct:
                return

    def _awaited(self) -> bool:
        return any(entry.durable is not None for entry in self._pending)

    async def close(self) -> None:
        self._closing = True
        self._wake.set()

    def _stopped(self) -> None:
        """Whatever is still in memory is lost now: count it, release its waiters, and say
        exactly what became of the facts of this run. A batch the relay was publishing or
        writing when it was cancelled is counted apart: JetStream or the table may have it."""
        tally = self.tally
        for entries, cut in ((self._in_flight, True), (self._pending, False)):
            for entry in entries:
                entry.done(False)
                if entry.mark is not None:
                    tally.kept += 1
                elif cut:
                    tally.cut += 1
                else:
                    tally.lost += 1
        self._in_flight, self._pending = [], []
        if self._journal is not None:
            self._journal.close()
        report = log.error if tally.lost or tally.cut else log.info
        report(
            "outbox stopped: %d facts published, %d stored in the table (they go out from there, "
            "also after a restart), %d lost, %d cut while being published or stored (JetStream "
            "or the table may have them), %d kept in the fact journal (stored at the next "
            "start); %d stored facts published from the table",
            tally.published,
            tally.stored,
            tally.lost,
            tally.cut,
            tally.kept,
            tally.backlog_published,
        )

    async def _publish_entries(self, entries: list[_Entry]) -> list[_Entry]:
        """Publish ``entries`` at once; returns those JetStream did not acknowledge (and
        those their producer tried to publish already, untried)."""
        unpublished = [e for e in entries if e.tried]
        if unpublished:
            log.warning(
                "outbox: %d facts not acknowledged by JetStream in time; keeping them for later",
                len(unpublished),
            )
        entries = [e for e in entries if not e.tried]
        acked = await self._acked([e.fact for e in entries])
        for entry, ok in zip(entries, acked, strict=True):
            if ok:
                self.tally.published += 1
                entry.done(True)
            else:
                unpublished.append(entry)
        return unpublished

    async def _acked(self, facts: list[Fact]) -> list[bool]:
        """Publish ``facts`` at once; whether JetStream acknowledged each (none is tried while
        NATS is not connected: waiting out the timeout would only delay the write)."""
        bus = self._bus
        if bus is None or not facts or not bus.nc.is_connected:
            return [False] * len(facts)
        results = await asyncio.gather(
            *(self._publish_one(bus, f) for f in facts), return_exceptions=True
        )
        acked = [not isinstance(r, BaseException) for r in results]
        if not all(acked):
            log.warning(
                "outbox: %d facts not published; keeping them for later", acked.count(False)
            )
        return acked

    async def _publish_one(self, bus: Bus, fact: Fact) -> None:
        async with asyncio.timeout(self._publish_timeout):
            await bus.publish(fact.subject, fact.payload, fact.msg_id, dict(fact.headers) or None)

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
        acked = await self._acked([fact for _, fact in rows])
        done = [row_id for (row_id, _), ok in zip(rows, acked, strict=True) if ok]
        if done:
            async with self._engine.begin() as conn:
                await conn.execute(delete(self._table).where(self._table.c.id.in_(done)))
            self.tally.backlog_published += len(done)
        return len(done) < len(rows) or len(rows) == self._batch_size
