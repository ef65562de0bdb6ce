"""The durable ``billing-usage`` consumer: UsageRecorded facts → generation records."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from google.protobuf.message import DecodeError
from sqlalchemy.exc import SQLAlchemyError
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_common.bus import (
    USAGE_RECORDED,
    Bus,
    Delivery,
    Outcome,
    PoisonMessage,
    TransientError,
)
from tollgate_common.inbox import Stored
from tollgate_common.money import parse_usd

from tollgate_billing.errors import InvalidUsage
from tollgate_billing.repository import USAGE_CONSUMER
from tollgate_billing.service import BillingService, Generation

log = logging.getLogger(__name__)

USAGE_STREAM = "TOLLGATE_USAGE"
RESTART_DELAY_SECONDS = 1.0
# After a batch that was not full, wait this long before fetching again: facts trickling in
# are stored together (a transaction costs ~3 ms of CPU on SQLite however few rows it has),
# at the price of up to this much delay before a fact becomes visible.
BATCH_LINGER_SECONDS = 0.05


def generation_from_fact(fact: UsageRecorded, received_at: datetime) -> Generation:
    """The generation a fact describes; :class:`InvalidUsage` if its amounts are not decimals."""
    try:
        cost, market_cost = parse_usd(fact.cost), parse_usd(fact.market_cost)
    except ValueError as exc:
        raise InvalidUsage(str(exc)) from exc
    created_at = fact.created_at.ToDatetime(UTC) if fact.HasField("created_at") else received_at
    return Generation(
        id=fact.generation_id,
        team_id=fact.team_id,
        project_id=fact.project_id,
        key_id=fact.key_id,
        user_id=fact.user_id,
        model=fact.model,
        provider=fact.provider,
        provider_model_id=fact.provider_model_id,
        credential_type=fact.credential_type,
        streamed=fact.streamed,
        finish_reason=fact.finish_reason,
        status=fact.status,
        input_tokens=fact.input_tokens,
        output_tokens=fact.output_tokens,
        cached_input_tokens=fact.cached_input_tokens,
        cache_write_tokens=fact.cache_write_tokens,
        reasoning_tokens=fact.reasoning_tokens,
        cost=cost,
        market_cost=market_cost,
        price_version=fact.price_version,
        ttft_ms=fact.ttft_ms,
        latency_ms=fact.latency_ms,
        created_at=created_at,
    )


class UsageConsumer:
    """Applies UsageRecorded deliveries once each, a fetched batch at a time."""

    def __init__(self, service: BillingService) -> None:
        self._service = service

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """Record the facts of ``deliveries`` (in one transaction where possible); one outcome
        per delivery: ACK when recorded or a duplicate, TERM for a fact that can never be
        recorded (the others proceed), NAK for all when the database fails."""
        received_at = datetime.now(UTC)
        outcomes = [Outcome.TERM] * len(deliveries)
        positions: list[int] = []
        batch: list[Generation] = []
        for index, delivery in enumerate(deliveries):
            generation = _decode(delivery, received_at)
            if generation is not None:
                positions.append(index)
                batch.append(generation)
        if not batch:
            return outcomes
        results: Sequence[Stored | None]
        try:
            results = await self._service.record_usages(batch)
        except SQLAlchemyError as exc:
            log.warning(
                "database error recording %d usage facts; redelivering later: %s",
                len(batch),
                type(exc).__name__,
            )
            results = [None] * len(batch)
        for index, result in zip(positions, results, strict=True):
            outcomes[index] = _OUTCOMES[result]
        return outcomes

    async def handle(self, delivery: Delivery) -> None:
        """One delivery: returns when it is done, raises PoisonMessage or TransientError."""
        [outcome] = await self.handle_batch([delivery])
        if outcome is Outcome.TERM:
            raise PoisonMessage(f"UsageRecorded {delivery.msg_id!r} cannot be recorded")
        if outcome is Outcome.NAK:
            raise TransientError(f"UsageRecorded {delivery.msg_id!r}: database error")

    async def run(self, bus: Bus, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, re-subscribing after a failure of the subscription."""
        while not stop.is_set():
            try:
                await bus.consume_batches(
                    stream=USAGE_STREAM,
                    subject=USAGE_RECORDED,
                    durable=USAGE_CONSUMER,
                    handler=self.handle_batch,
                    stop=stop,
                    linger_seconds=BATCH_LINGER_SECONDS,
                )
            except TimeoutError:
                # nats-py's fetch() sometimes raises a bare asyncio.TimeoutError on an idle
                # stream, which Bus.consume_batches lets through: nothing failed, subscribe again.
                log.debug("%s fetch timed out; resubscribing", USAGE_CONSUMER)
                continue
            except Exception:
                log.exception("%s consumer failed; restarting", USAGE_CONSUMER)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RESTART_DELAY_SECONDS)


# A stored fact and a repeat of one are done; one the database refuses is poison; None: the
# database failed, try again later.
_OUTCOMES = {
    Stored.NEW: Outcome.ACK,
    Stored.DUPLICATE: Outcome.ACK,
    Stored.REJECTED: Outcome.TERM,
    None: Outcome.NAK,
}


def _decode(delivery: Delivery, received_at: datetime) -> Generation | None:
    """The generation of ``delivery``; None (logged) for a fact that can never be recorded."""
    try:
        fact = UsageRecorded.FromString(delivery.data)
    except DecodeError:
        log.error("terminating undecodable UsageRecorded %r", delivery.msg_id)
        return None
    if delivery.msg_id and delivery.msg_id != fact.generation_id:
        log.warning(
            "usage fact %s arrived with Nats-Msg-Id %s; deduplicating on the generation id",
            fact.generation_id,
            delivery.msg_id,
        )
    try:
        return generation_from_fact(fact, received_at)
    except InvalidUsage as exc:
        log.error("terminating invalid UsageRecorded %r: %s", delivery.msg_id, exc)
        return None
