"""NATS JetStream: idempotent streams, de-duplicated publishing, durable pull consumers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
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
)

USAGE_RECORDED = "tollgate.usage.recorded.v1"
ACTIVITY_RECORDED = "tollgate.activity.recorded.v1"


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
    TERM = "term"  # poison: never redeliver


Handler = Callable[[Delivery], Awaitable[None]]
BatchHandler = Callable[[Sequence[Delivery]], Awaitable[Sequence[Outcome]]]


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
        nak_delay_seconds: float = 2.0,
        linger_seconds: float = 0.0,
    ) -> None:
        """Durable pull consumer: ``handler`` gets each fetched batch (up to ``batch`` messages)
        at once and returns one :class:`Outcome` per delivery, in order; each message is then
        acked, nak(delay)ed or terminated. A failing handler gets the whole batch redelivered.
        Runs until ``stop`` is set.

        A fetch returns as soon as a message is there. After a batch that was not full, the
        next fetch waits ``linger_seconds``: messages trickling in are then handled together,
        at most ``1 / linger_seconds`` batches a second, instead of one by one."""
        config = ConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=30,
            max_deliver=50,
            filter_subject=subject,
        )
        subscription = await self.js.pull_subscribe(
            subject, durable=durable, stream=stream, config=config
        )
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
                await _settle(messages, handler, nak_delay_seconds, durable)
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
        nak_delay_seconds: float = 2.0,
    ) -> None:
        """:meth:`consume_batches` with a handler of one message: ack after ``handler``
        returns, nak(delay) on TransientError or an unexpected error, term() on PoisonMessage."""

        async def each(deliveries: Sequence[Delivery]) -> list[Outcome]:
            return [await _outcome_of(handler, delivery) for delivery in deliveries]

        await self.consume_batches(
            stream=stream,
            subject=subject,
            durable=durable,
            handler=each,
            stop=stop,
            batch=batch,
            nak_delay_seconds=nak_delay_seconds,
        )

    async def consumer_lag(self, stream: str, durable: str) -> tuple[int, int]:
        """``(not yet delivered, delivered but not acknowledged)`` of a durable consumer."""
        info = await self.js.consumer_info(stream, durable)
        return int(info.num_pending or 0), int(info.num_ack_pending or 0)

    async def close(self) -> None:
        if not self.nc.is_closed:
            await self.nc.drain()


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


async def _settle(
    messages: Sequence[Msg], handler: BatchHandler, nak_delay_seconds: float, consumer: str
) -> None:
    """Run ``handler`` on one fetched batch, then settle each message by its outcome."""
    started_ns = time.time_ns()
    deliveries = [_delivery(message) for message in messages]
    try:
        outcomes = await handler(deliveries)
        if len(outcomes) != len(deliveries):
            raise ValueError(f"{len(outcomes)} outcomes for {len(deliveries)} deliveries")
    except TransientError as exc:
        log.warning("redelivering a batch of %d later: %s", len(deliveries), exc)
        outcomes = [Outcome.NAK] * len(deliveries)
    except Exception:
        log.exception("handler failed for a batch of %d; redelivering later", len(deliveries))
        outcomes = [Outcome.NAK] * len(deliveries)
    telemetry.record_consumed(
        consumer,
        [(d.subject, d.msg_id, d.headers) for d in deliveries],
        started_ns,
        [outcome.value for outcome in outcomes],
    )
    for message, outcome in zip(messages, outcomes, strict=True):
        if outcome is Outcome.ACK:
            await message.ack()
        elif outcome is Outcome.NAK:
            await message.nak(delay=nak_delay_seconds)
        else:
            await message.term()


async def _outcome_of(handler: Handler, delivery: Delivery) -> Outcome:
    """The outcome of a one-message handler: what it raised, if anything, decides."""
    try:
        await handler(delivery)
    except PoisonMessage:
        log.error("terminating poison message %s on %s", delivery.msg_id, delivery.subject)
        return Outcome.TERM
    except TransientError as exc:
        log.warning("redelivering %s later: %s", delivery.msg_id, exc)
        return Outcome.NAK
    except Exception:
        log.exception("handler failed for %s; redelivering later", delivery.msg_id)
        return Outcome.NAK
    return Outcome.ACK
