"""A durable JetStream consumer of one kind of fact, storing each fact once as a record.

A service supplies the facts it follows (:class:`FactStream`), its durable name, how a fact
becomes its record and how a batch of records is stored; :class:`FactConsumer` decodes,
isolates poison, maps storage results to ack / nak / term, keeps the subscription alive and
exports its metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from google.protobuf.message import DecodeError, Message
from sqlalchemy.exc import SQLAlchemyError
from tollgate.events.v1.activity_pb2 import ActivityRecorded
from tollgate.events.v1.usage_pb2 import UsageRecorded

from tollgate_common.bus import (
    ACTIVITY_RECORDED,
    USAGE_RECORDED,
    Bus,
    Delivery,
    Outcome,
    PoisonMessage,
    TransientError,
)
from tollgate_common.inbox import Stored
from tollgate_common.metrics import ConsumerMetrics

log = logging.getLogger(__name__)

Fact = TypeVar("Fact", bound=Message)
Record = TypeVar("Record")

RESTART_DELAY_SECONDS = 1.0
# After a batch that was not full, wait this long before fetching again: facts trickling in
# are stored together (a transaction costs ~3 ms of CPU on SQLite however few rows it has),
# at the price of up to this much delay before a fact becomes visible.
BATCH_LINGER_SECONDS = 0.05
# How often the consumer's lag is read from the server for the metrics.
LAG_POLL_SECONDS = 5.0

# A stored fact and a repeat of one are done; one the database refuses is poison; None: the
# database failed, try again later.
_OUTCOMES = {
    Stored.NEW: Outcome.ACK,
    Stored.DUPLICATE: Outcome.ACK,
    Stored.REJECTED: Outcome.TERM,
    None: Outcome.NAK,
}


@dataclass(frozen=True)
class FactStream(Generic[Fact]):
    """One kind of fact: its stream, its subject and its message type. ``key``, when given,
    is the fact's own id a consumer deduplicates on: a delivery under another message id is
    logged (it is still stored once)."""

    stream: str
    subject: str
    fact: type[Fact]
    key: Callable[[Fact], str] | None = None

    def decode(self, data: bytes) -> Fact:
        return self.fact.FromString(data)

    @property
    def name(self) -> str:
        return str(self.fact.DESCRIPTOR.name)


def _generation_id(fact: UsageRecorded) -> str:
    return fact.generation_id


USAGE_FACTS = FactStream("TOLLGATE_USAGE", USAGE_RECORDED, UsageRecorded, _generation_id)
ACTIVITY_FACTS = FactStream("TOLLGATE_ACTIVITY", ACTIVITY_RECORDED, ActivityRecorded)


class FactConsumer(Generic[Fact, Record]):
    """Applies the deliveries of ``facts`` once each, a fetched batch at a time.

    ``convert`` turns a fact into the service's record and raises ``invalid`` for a fact that
    can never be stored; ``store`` stores a batch (idempotently) and returns one result each.
    """

    def __init__(
        self,
        facts: FactStream[Fact],
        *,
        durable: str,
        convert: Callable[[Fact, datetime], Record],
        store: Callable[[list[Record]], Awaitable[Sequence[Stored | None]]],
        invalid: type[Exception],
        linger_seconds: float = BATCH_LINGER_SECONDS,
    ) -> None:
        self._facts = facts
        self._durable = durable
        self._convert = convert
        self._store = store
        self._invalid = invalid
        self._linger_seconds = linger_seconds
        self._metrics: ConsumerMetrics | None = None

    @property
    def durable(self) -> str:
        return self._durable

    def instrument(self, metrics: ConsumerMetrics) -> None:
        """Count handled messages and publish the consumer's lag (while :meth:`run` runs)."""
        self._metrics = metrics

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """Store the facts of ``deliveries`` (in one transaction where possible); one outcome
        per delivery: ACK when stored or a duplicate, TERM for a fact that can never be stored
        (the others proceed), NAK for the others when the database fails."""
        received_at = datetime.now(UTC)
        outcomes = [Outcome.TERM] * len(deliveries)
        positions: list[int] = []
        records: list[Record] = []
        for index, delivery in enumerate(deliveries):
            record = self._decode(delivery, received_at)
            if record is not None:
                positions.append(index)
                records.append(record)
        if not records:
            return outcomes
        results: Sequence[Stored | None]
        try:
            results = await self._store(records)
        except SQLAlchemyError as exc:
            log.warning(
                "%s: database error storing %d %s facts; redelivering later: %s",
                self._durable,
                len(records),
                self._facts.name,
                type(exc).__name__,
            )
            results = [None] * len(records)
        for index, result in zip(positions, results, strict=True):
            outcomes[index] = _OUTCOMES[result]
        if self._metrics is not None:
            self._metrics.handled(self._facts.stream, self._durable, [o.value for o in outcomes])
        return outcomes

    async def handle(self, delivery: Delivery) -> None:
        """One delivery: returns when it is done, raises PoisonMessage or TransientError."""
        [outcome] = await self.handle_batch([delivery])
        if outcome is Outcome.TERM:
            raise PoisonMessage(f"{self._facts.name} {delivery.msg_id!r} cannot be stored")
        if outcome is Outcome.NAK:
            raise TransientError(f"{self._facts.name} {delivery.msg_id!r}: database error")

    async def run(self, bus: Bus, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, re-subscribing after a failure of the subscription."""
        watch = None
        if self._metrics is not None:
            watch = asyncio.create_task(self._watch_lag(bus, stop), name=f"{self._durable}-lag")
        try:
            await self._consume(bus, stop)
        finally:
            if watch is not None:
                await watch

    async def _consume(self, bus: Bus, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await bus.consume_batches(
                    stream=self._facts.stream,
                    subject=self._facts.subject,
                    durable=self._durable,
                    handler=self.handle_batch,
                    stop=stop,
                    linger_seconds=self._linger_seconds,
                )
            except TimeoutError:
                # nats-py's fetch() sometimes raises a bare asyncio.TimeoutError on an idle
                # stream, which Bus.consume_batches lets through: nothing failed, subscribe again.
                log.debug("%s fetch timed out; resubscribing", self._durable)
                continue
            except Exception:
                log.exception("%s consumer failed; restarting", self._durable)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RESTART_DELAY_SECONDS)

    async def _watch_lag(self, bus: Bus, stop: asyncio.Event) -> None:
        """Publish the consumer's lag as a metric every few seconds until ``stop``."""
        while not stop.is_set():
            try:
                pending, ack_pending = await bus.consumer_lag(self._facts.stream, self._durable)
            except Exception as exc:  # the consumer may not exist yet; NATS may be away
                log.debug("%s: no consumer info: %s", self._durable, exc)
            else:
                if self._metrics is not None:
                    self._metrics.lag(self._facts.stream, self._durable, pending, ack_pending)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LAG_POLL_SECONDS)

    def _decode(self, delivery: Delivery, received_at: datetime) -> Record | None:
        """The record of ``delivery``; None (logged) for a fact that can never be stored."""
        name = self._facts.name
        try:
            fact = self._facts.decode(delivery.data)
        except DecodeError:
            log.error("terminating undecodable %s %r", name, delivery.msg_id)
            return None
        key = self._facts.key
        if key is not None and delivery.msg_id and delivery.msg_id != key(fact):
            log.warning(
                "%s %s arrived with Nats-Msg-Id %s; deduplicating on the fact's own id",
                name,
                key(fact),
                delivery.msg_id,
            )
        try:
            return self._convert(fact, received_at)
        except self._invalid as exc:
            log.error("terminating invalid %s %r: %s", name, delivery.msg_id, exc)
            return None
