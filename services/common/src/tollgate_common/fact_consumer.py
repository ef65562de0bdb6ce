"""A durable JetStream consumer of one kind of fact, storing each fact once as a record.

A service supplies the facts it follows (:class:`FactStream`), its durable name, how a fact
becomes its record and how a batch of records is stored; :class:`FactConsumer` decodes,
isolates poison (dead-lettered with its reason), maps storage results to ack / nak / term,
keeps the subscription alive, exports its metrics and warns when its oldest unacknowledged
fact grows old (a fact is retried for as long as it takes, so that is how an outage shows).
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
    Backoff,
    Bus,
    Delivery,
    Outcome,
    Poisoned,
    PoisonMessage,
    TransientError,
    Verdict,
)
from tollgate_common.env_settings import EnvSettings, setting
from tollgate_common.inbox import Stored
from tollgate_common.metrics import ConsumerMetrics

log = logging.getLogger(__name__)

Fact = TypeVar("Fact", bound=Message)
Record = TypeVar("Record")

RESTART_DELAY_SECONDS = 1.0
# After a batch that was not full, wait this long before fetching again: facts trickling in
# are stored together, at the price of up to this much delay before a fact becomes visible
# while facts keep coming (a fact after a quiet spell is fetched at once). A batch's
# transaction and round trips cost billing ~5 ms of CPU however few facts it holds, a fact
# itself ~0.1 ms: at 200 facts/s a 50 ms linger made batches of ~15 facts and ~0.5 ms of CPU
# per fact; 250 ms makes them ~50 facts and about half that (bench/billing_consumer.py
# --live-rate).
BATCH_LINGER_SECONDS = 0.25
# How often the consumer's lag is read from the server for the metrics.
LAG_POLL_SECONDS = 5.0

# A stored fact and a repeat of one are done; one the database refuses is poison; None: the
# database failed, try again later.
_OUTCOMES: dict[Stored | None, Verdict] = {
    Stored.NEW: Outcome.ACK,
    Stored.DUPLICATE: Outcome.ACK,
    Stored.REJECTED: Poisoned("rejected: its values can never be stored"),
    None: Outcome.NAK,
}


class DeliverySettings(EnvSettings):
    """How every fact consumer of a process retries and when it warns, from the environment
    (the same for every service, so the names carry no service prefix)."""

    # The longest wait between two deliveries of a fact that keeps failing (the wait starts
    # at a second, or at this if less, and doubles with each delivery).
    retry_max_seconds: float = setting(default=60.0, gt=0, env="TOLLGATE_FACT_RETRY_MAX_SECONDS")
    # A WARNING once the oldest unacknowledged fact of a consumer is older than this.
    age_alert_seconds: float = setting(default=300.0, gt=0, env="TOLLGATE_FACT_AGE_ALERT_SECONDS")
    # After a batch that was not full, how long to wait before fetching the next one (see
    # BATCH_LINGER_SECONDS): longer, fewer and larger transactions; 0 fetches at once.
    linger_seconds: float = setting(
        default=BATCH_LINGER_SECONDS,
        ge=0,
        le=5,
        env="TOLLGATE_FACT_BATCH_LINGER_SECONDS",
    )

    def backoff(self) -> Backoff:
        return Backoff(min(1.0, self.retry_max_seconds), self.retry_max_seconds)


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
        linger_seconds: float | None = None,
        delivery: DeliverySettings | None = None,
    ) -> None:
        self._facts = facts
        self._durable = durable
        self._convert = convert
        self._store = store
        self._invalid = invalid
        self._delivery = delivery or DeliverySettings()
        self._linger_seconds = (
            self._delivery.linger_seconds if linger_seconds is None else linger_seconds
        )
        self._metrics: ConsumerMetrics | None = None
        # Whether the age alert is raised: it is logged once per crossing, not per poll.
        self._alerting = False

    @property
    def durable(self) -> str:
        return self._durable

    @property
    def facts(self) -> FactStream[Fact]:
        return self._facts

    def instrument(self, metrics: ConsumerMetrics) -> None:
        """Count handled messages and publish the consumer's lag (while :meth:`run` runs)."""
        self._metrics = metrics

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> list[Verdict]:
        """Store the facts of ``deliveries`` (in one transaction where possible); one outcome
        per delivery: ACK when stored or a duplicate, Poisoned (dead-lettered, then terminated)
        for a fact that can never be stored (the others proceed), NAK for the others when the
        database fails."""
        received_at = datetime.now(UTC)
        outcomes: list[Verdict] = []
        positions: list[int] = []
        records: list[Record] = []
        for index, delivery in enumerate(deliveries):
            record = self._decode(delivery, received_at)
            if isinstance(record, Poisoned):
                outcomes.append(record)
            else:
                outcomes.append(Outcome.NAK)  # decided once the batch is stored
                positions.append(index)
                records.append(record)
        if not records:
            self._count(outcomes)
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
        self._count(outcomes, results)
        return outcomes

    def _count(self, outcomes: Sequence[Verdict], results: Sequence[Stored | None] = ()) -> None:
        """The batch in the metrics (no log line: a consumer logs only what changes, such as
        a database error or the age alert)."""
        if self._metrics is None:
            return
        self._metrics.handled(self._facts.stream, self._durable, [o.value for o in outcomes])
        stored = [result.value for result in results if result is not None]
        if stored:
            self._metrics.stored(self._facts.stream, self._durable, stored)

    async def handle(self, delivery: Delivery) -> None:
        """One delivery: returns when it is done, raises PoisonMessage or TransientError."""
        [outcome] = await self.handle_batch([delivery])
        if isinstance(outcome, Poisoned):
            raise PoisonMessage(f"{self._facts.name} {delivery.msg_id!r}: {outcome.reason}")
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
                    backoff=self._delivery.backoff(),
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
        """Publish the consumer's lag and the age of its oldest unacknowledged fact every few
        seconds until ``stop``, and warn while that age is over the alert threshold."""
        while not stop.is_set():
            try:
                backlog = await bus.backlog(self._facts.stream, self._durable)
            except Exception as exc:  # the consumer may not exist yet; NATS may be away
                log.debug("%s: no consumer info: %s", self._durable, exc)
            else:
                age = backlog.age_seconds()
                if self._metrics is not None:
                    self._metrics.lag(
                        self._facts.stream, self._durable, backlog.pending, backlog.ack_pending, age
                    )
                self._alert(age, backlog.pending + backlog.ack_pending)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LAG_POLL_SECONDS)

    def _alert(self, age: float, unacked: int) -> None:
        """Warn once when the oldest unacknowledged fact gets older than the threshold, and say
        when the consumer has caught up again."""
        threshold = self._delivery.age_alert_seconds
        if age > threshold and not self._alerting:
            self._alerting = True
            log.warning(
                "%s: the oldest unacknowledged %s fact is %.0fs old (over %.0fs; %d waiting): "
                "facts are retried until they are stored; check the database",
                self._durable,
                self._facts.name,
                age,
                threshold,
                unacked,
            )
        elif age <= threshold and self._alerting:
            self._alerting = False
            log.info("%s: caught up (oldest unacknowledged fact %.0fs old)", self._durable, age)

    def _decode(self, delivery: Delivery, received_at: datetime) -> Record | Poisoned:
        """The record of ``delivery``; Poisoned for a fact that can never be stored."""
        name = self._facts.name
        try:
            fact = self._facts.decode(delivery.data)
        except DecodeError:
            return Poisoned(f"undecodable {name}")
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
            return Poisoned(f"invalid {name}: {exc}")
