"""NATS JetStream: idempotent streams, de-duplicated publishing, durable pull consumers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import BadRequestError, NotFoundError

from tollgate_common import telemetry

log = logging.getLogger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
# Tokens of a JetStream ack subject without a domain ($JS.ACK.<stream>.<consumer>.<delivered>.
# <stream seq>.<consumer seq>.<timestamp>.<pending>).
_V1_ACK_TOKENS = 9
# Messages per fetch of a batch consumer. A batch is one transaction: the bigger, the less its
# fixed cost weighs per message and the more facts share an aggregate row (activity's rollups:
# 512 usage facts touch ~3.5x fewer rollup rows each than 256). Below the server's default
# max_ack_pending (1,000 unacknowledged messages per consumer).
FETCH_BATCH = 512
# How long an idle fetch waits for a first message (a fetch returns as soon as one is there).
IDLE_FETCH_SECONDS = 1.0
# How long JetStream waits for a delivered message's ack before delivering it again. Short, so
# that the facts a consumer held when it was killed (kill -9, OOM) are redelivered to its
# successor within seconds; a batch that takes longer (a database slow to answer: SQLite waits
# up to 30 s for a lock) tells JetStream it is still at work every IN_PROGRESS_SECONDS.
ACK_WAIT_SECONDS = 30.0
IN_PROGRESS_SECONDS = 10.0


# The stream of dead letters: a fact terminated on ``<subject>`` is kept on
# ``tollgate.dead.<subject>`` with the headers below.
DEAD_LETTER_STREAM = "TOLLGATE_DEAD_LETTERS"
DEAD_LETTER_PREFIX = "tollgate.dead"
SUBJECT_HEADER = "Tollgate-Subject"
ORIGINAL_ID_HEADER = "Tollgate-Msg-Id"
CONSUMER_HEADER = "Tollgate-Consumer"
REASON_HEADER = "Tollgate-Reason"


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: Sequence[str]
    max_age_seconds: float = 7 * 24 * 3600
    duplicate_window_seconds: float = 120


# The streams (docs/internal-contracts.md, Events); every service ensures them at start (idempotent).
STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("TOLLGATE_USAGE", ("tollgate.usage.>",)),
    StreamSpec("TOLLGATE_ACTIVITY", ("tollgate.activity.>",)),
    StreamSpec("TOLLGATE_AUTH", ("tollgate.auth.>",), max_age_seconds=24 * 3600),
    # Facts a consumer could never process, kept for `tollgate facts dead-letters` and `replay`.
    StreamSpec(DEAD_LETTER_STREAM, (f"{DEAD_LETTER_PREFIX}.>",), max_age_seconds=30 * 24 * 3600),
)

USAGE_RECORDED = "tollgate.usage.recorded.v1"
ACTIVITY_RECORDED = "tollgate.activity.recorded.v1"


@dataclass(frozen=True)
class Backoff:
    """How long a fact whose processing failed for a reason that may pass waits before its
    next delivery: ``first_seconds``, doubling with each delivery, at most ``max_seconds``.
    There is no last delivery: a database down for an hour delays its facts for an hour (and
    the oldest-unacknowledged alert says so), it does not lose them."""

    first_seconds: float = 1.0
    max_seconds: float = 60.0

    def delay(self, num_delivered: int) -> float:
        """The wait after the ``num_delivered``-th delivery failed."""
        exponent = min(max(num_delivered, 1) - 1, 32)  # 2**32 s is past any cap
        return min(self.max_seconds, self.first_seconds * 2.0**exponent)


class TransientError(Exception):
    """Processing failed for a reason that may pass: the message is redelivered later."""


class PoisonMessage(Exception):
    """The message can never be processed: it is terminated (not redelivered)."""


@dataclass(frozen=True)
class Delivery:
    subject: str
    msg_id: str
    data: bytes
    num_delivered: int
    headers: dict[str, str] = field(default_factory=dict)


class Outcome(Enum):
    """What becomes of one delivered message once its batch has been handled."""

    ACK = "ack"  # done (applied now, or a duplicate of something already applied)
    NAK = "nak"  # failed for a reason that may pass: redeliver after a delay
    TERM = "term"  # poison: dead-lettered, then never redelivered


@dataclass(frozen=True)
class Poisoned:
    """A TERM outcome that says why: the reason travels with the dead letter."""

    reason: str

    @property
    def value(self) -> str:
        return Outcome.TERM.value


Verdict = Outcome | Poisoned
Handler = Callable[[Delivery], Awaitable[None]]
BatchHandler = Callable[[Sequence[Delivery]], Awaitable[Sequence[Verdict]]]


async def _on_error(error: Exception) -> None:
    # One line per failed (re)connect attempt, not nats-py's traceback.
    log.warning("NATS: %s", error or type(error).__name__)


async def _on_disconnected() -> None:
    log.warning("NATS: disconnected; reconnecting")


async def _on_reconnected() -> None:
    log.info("NATS: reconnected")


class Bus:
    """One NATS connection of a process, and its JetStream context."""

    def __init__(self, nc: Client) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()

    @classmethod
    async def connect(cls, url: str, name: str, *, wait_seconds: float = 30.0) -> Bus:
        """Connect, retrying while the server is not up yet (for at most ``wait_seconds``)."""
        deadline = asyncio.get_running_loop().time() + wait_seconds
        while True:
            try:
                nc = await nats.connect(
                    url,
                    name=name,
                    connect_timeout=2,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    allow_reconnect=True,
                    error_cb=_on_error,
                    disconnected_cb=_on_disconnected,
                    reconnected_cb=_on_reconnected,
                )
                return cls(nc)
            except (OSError, nats.errors.NoServersError, NatsTimeoutError):
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def ensure_streams(
        self, specs: Sequence[StreamSpec] = STREAMS, *, replicas: int = 1
    ) -> None:
        """Create the streams, or raise an existing stream's replica count to ``replicas`` (a
        clustered JetStream keeps that many copies of each message; 1 on a single server)."""
        for spec in specs:
            config = StreamConfig(
                name=spec.name,
                subjects=list(spec.subjects),
                storage=StorageType.FILE,
                max_age=spec.max_age_seconds,
                duplicate_window=spec.duplicate_window_seconds,
                num_replicas=replicas,
            )
            try:
                info = await self.js.stream_info(spec.name)
            except NotFoundError:
                try:
                    await self.js.add_stream(config)
                except BadRequestError:
                    # Another process created it between our look-up and our add.
                    await self.js.stream_info(spec.name)
                continue
            if (info.config.num_replicas or 1) < replicas:
                await self.js.update_stream(config)

    async def publish(
        self, subject: str, payload: bytes, msg_id: str, headers: dict[str, str] | None = None
    ) -> bool:
        """Publish once (JetStream drops a repeat of ``msg_id``); True if it was a duplicate."""
        all_headers = {**(headers or {}), MSG_ID_HEADER: msg_id}
        ack = await self.js.publish(subject, payload, headers=all_headers, timeout=5)
        return bool(ack.duplicate)

    async def consume_batches(
        self,
        *,
        stream: str,
        subject: str,
        durable: str,
        handler: BatchHandler,
        stop: asyncio.Event,
        batch: int = FETCH_BATCH,
        backoff: Backoff | None = None,
        linger_seconds: float = 0.0,
    ) -> None:
        """Durable pull consumer: ``handler`` gets each fetched batch (up to ``batch`` messages)
        at once and returns one :data:`Verdict` per delivery, in order; each message is then
        acked, nak'ed with the ``backoff`` delay of its delivery count (redelivered without
        limit), or dead-lettered and terminated. A failing handler gets the whole batch
        redelivered. Runs until ``stop`` is set.

        A fetch returns as soon as a message is there. After a batch that was not full, the
        next fetch waits ``linger_seconds``: messages trickling in are then handled together,
        at most ``1 / linger_seconds`` batches a second, instead of one by one."""
        await self.ensure_consumer(stream, subject, durable)
        subscription = await self.js.pull_subscribe_bind(durable=durable, stream=stream)
        settle = _Settler(self, handler, backoff or Backoff(), durable)
        try:
            while not stop.is_set():
                try:
                    # Returns as soon as at least one message is there (nats-py asks with
                    # no_wait first, then waits for the first message only): the timeout
                    # bounds an idle wait, and so how long ``stop`` may go unnoticed.
                    messages = await subscription.fetch(batch, timeout=IDLE_FETCH_SECONDS)
                except (NatsTimeoutError, TimeoutError):
                    # An idle stream; nats-py raises either kind depending on where it timed out.
                    continue
                await settle(messages)
                if linger_seconds > 0 and len(messages) < batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), linger_seconds)
        finally:
            await subscription.unsubscribe()

    async def consume(
        self,
        *,
        stream: str,
        subject: str,
        durable: str,
        handler: Handler,
        stop: asyncio.Event,
        batch: int = 100,
        backoff: Backoff | None = None,
    ) -> None:
        """:meth:`consume_batches` with a handler of one message: ack after ``handler``
        returns, nak(delay) on TransientError or an unexpected error, dead letter and term()
        on PoisonMessage."""

        async def each(deliveries: Sequence[Delivery]) -> list[Verdict]:
            return [await _outcome_of(handler, delivery) for delivery in deliveries]

        await self.consume_batches(
            stream=stream,
            subject=subject,
            durable=durable,
            handler=each,
            stop=stop,
            batch=batch,
            backoff=backoff,
        )

    async def ensure_consumer(self, stream: str, subject: str, durable: str) -> None:
        """Create the durable consumer, or bring one an older release created to this
        configuration (JetStream updates a durable consumer in place when only updatable
        settings differ: its redelivery limit and ack wait)."""
        config = ConsumerConfig(
            name=durable,
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ACK_WAIT_SECONDS,
            max_deliver=-1,
            filter_subject=subject,
        )
        try:
            info = await self.js.consumer_info(stream, durable)
        except NotFoundError:
            await self.js.add_consumer(stream, config)
            return
        current = info.config
        if current.max_deliver != -1 or current.ack_wait != ACK_WAIT_SECONDS:
            log.info(
                "%s: updating the consumer (max deliveries %s → unlimited, ack wait %ss → %ss)",
                durable,
                current.max_deliver,
                current.ack_wait,
                ACK_WAIT_SECONDS,
            )
            await self.js.add_consumer(stream, config)

    async def backlog(self, stream: str, durable: str) -> Backlog:
        """What a durable consumer has not acknowledged yet: how many facts (not yet delivered,
        and delivered but not acknowledged) and when the oldest of them was published (the
        first message of its subject after the consumer's ack floor)."""
        info = await self.js.consumer_info(stream, durable)
        pending, ack_pending = int(info.num_pending or 0), int(info.num_ack_pending or 0)
        if pending + ack_pending == 0:
            return Backlog(pending, ack_pending, None)
        floor = info.ack_floor.stream_seq if info.ack_floor is not None else 0
        try:
            oldest = await self.js.get_msg(
                stream, seq=floor + 1, subject=info.config.filter_subject, next=True
            )
        except NotFoundError:  # removed meanwhile (acknowledged, or aged out)
            return Backlog(pending, ack_pending, None)
        return Backlog(pending, ack_pending, oldest.time)

    async def close(self) -> None:
        if not self.nc.is_closed:
            await self.nc.drain()


@dataclass(frozen=True)
class Backlog:
    """A consumer's unacknowledged facts: not yet delivered, delivered but not acknowledged,
    and when the oldest of them was published (None: there is none)."""

    pending: int
    ack_pending: int
    oldest: datetime | None

    def age_seconds(self, now: datetime | None = None) -> float:
        if self.oldest is None:
            return 0.0
        return max(0.0, ((now or datetime.now(UTC)) - self.oldest).total_seconds())


def _delivery(message: Msg) -> Delivery:
    headers = dict(message.headers or {})
    return Delivery(
        subject=message.subject,
        msg_id=headers.get(MSG_ID_HEADER, ""),
        data=message.data,
        num_delivered=num_delivered(message.reply),
        headers=headers,
    )


def num_delivered(reply: str) -> int:
    """How many times JetStream has delivered a message, from its ack subject
    (``$JS.ACK.<stream>.<consumer>.<delivered>.…``, 9 tokens, or with a domain and an account
    hash after ``$JS.ACK``): what ``Msg.metadata`` parses too, without building the rest of
    it (timestamps, sequence pairs) for every message of every batch. 1 when unreadable."""
    tokens = reply.split(".")
    index = 4 if len(tokens) == _V1_ACK_TOKENS else Msg.Ack.NumDelivered
    try:
        return max(1, int(tokens[index]))
    except (IndexError, ValueError):
        return 1


@dataclass(frozen=True)
class _Settler:
    """Runs a batch handler on each fetched batch, then settles each message by its verdict."""

    bus: Bus
    handler: BatchHandler
    backoff: Backoff
    consumer: str

    async def __call__(self, messages: Sequence[Msg]) -> None:
        started_ns = time.time_ns()
        deliveries = [_delivery(message) for message in messages]
        verdicts: Sequence[Verdict]
        working = asyncio.create_task(_still_working(messages))
        try:
            verdicts = await self.handler(deliveries)
            if len(verdicts) != len(deliveries):
                raise ValueError(f"{len(verdicts)} outcomes for {len(deliveries)} deliveries")
        except TransientError as exc:
            log.warning("redelivering a batch of %d later: %s", len(deliveries), exc)
            verdicts = [Outcome.NAK] * len(deliveries)
        except Exception:
            log.exception("handler failed for a batch of %d; redelivering later", len(deliveries))
            verdicts = [Outcome.NAK] * len(deliveries)
        finally:
            working.cancel()
        telemetry.record_consumed(
            self.consumer,
            [(d.subject, d.msg_id, d.headers) for d in deliveries],
            started_ns,
            [verdict.value for verdict in verdicts],
        )
        for message, delivery, verdict in zip(messages, deliveries, verdicts, strict=True):
            if verdict is Outcome.ACK:
                await message.ack()
            elif verdict is Outcome.NAK:
                await message.nak(delay=self.backoff.delay(delivery.num_delivered))
            else:
                reason = verdict.reason if isinstance(verdict, Poisoned) else "terminated"
                await self._bury(message, delivery, reason)

    async def _bury(self, message: Msg, delivery: Delivery, reason: str) -> None:
        """Keep a message that can never be processed in the dead-letter stream, then
        terminate it; if it cannot be kept now, it is redelivered (never just dropped)."""
        headers = {
            SUBJECT_HEADER: delivery.subject,
            ORIGINAL_ID_HEADER: delivery.msg_id,
            CONSUMER_HEADER: self.consumer,
            REASON_HEADER: reason[:500],
        }
        # One dead letter per message and consumer, however often it is buried.
        dead_id = f"{self.consumer}:{message.metadata.sequence.stream}"
        try:
            await self.bus.publish(
                f"{DEAD_LETTER_PREFIX}.{delivery.subject}", delivery.data, dead_id, headers
            )
        except Exception as exc:
            log.warning(
                "%s: cannot dead-letter %r (%s); redelivering it later",
                self.consumer,
                delivery.msg_id,
                type(exc).__name__,
            )
            await message.nak(delay=self.backoff.delay(delivery.num_delivered))
            return
        log.error(
            "%s: dead-lettered %r on %s: %s",
            self.consumer,
            delivery.msg_id,
            delivery.subject,
            reason,
        )
        await message.term()


async def _still_working(messages: Sequence[Msg]) -> None:
    """While a batch is being handled, reset its messages' ack timers every
    :data:`IN_PROGRESS_SECONDS`, so a slow batch is not delivered again meanwhile."""
    while True:
        await asyncio.sleep(IN_PROGRESS_SECONDS)
        for message in messages:
            with contextlib.suppress(Exception):  # the ack timer runs out then: a redelivery
                await message.in_progress()


async def _outcome_of(handler: Handler, delivery: Delivery) -> Verdict:
    """The outcome of a one-message handler: what it raised, if anything, decides."""
    try:
        await handler(delivery)
    except PoisonMessage as exc:
        return Poisoned(str(exc) or "poison message")
    except TransientError as exc:
        log.warning("redelivering %s later: %s", delivery.msg_id, exc)
        return Outcome.NAK
    except Exception:
        log.exception("handler failed for %s; redelivering later", delivery.msg_id)
        return Outcome.NAK
    return Outcome.ACK
