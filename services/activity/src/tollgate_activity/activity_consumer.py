"""The durable ``activity-log`` consumer: ActivityRecorded facts → activity log events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from google.protobuf.message import DecodeError
from sqlalchemy.exc import SQLAlchemyError
from tollgate.events.v1.activity_pb2 import ActivityRecorded, ActorType
from tollgate_common.bus import ACTIVITY_RECORDED, Bus, Delivery, Outcome
from tollgate_common.inbox import Stored

from tollgate_activity.errors import InvalidActivity
from tollgate_activity.event_repository import ACTIVITY_CONSUMER
from tollgate_activity.events import ACCOUNT_TYPE, ActivityEvent
from tollgate_activity.service import ActivityService

log = logging.getLogger(__name__)

ACTIVITY_STREAM = "TOLLGATE_ACTIVITY"
RESTART_DELAY_SECONDS = 1.0
BATCH_LINGER_SECONDS = 0.05

_ACTOR_TYPES = {
    ActorType.ACTOR_TYPE_USER: "user",
    ActorType.ACTOR_TYPE_API_KEY: "api-key",
    ActorType.ACTOR_TYPE_SYSTEM: "system",
}
_OUTCOMES = {Stored.NEW: Outcome.ACK, Stored.DUPLICATE: Outcome.ACK, Stored.REJECTED: Outcome.TERM}


def event_from_fact(fact: ActivityRecorded, received_at: datetime) -> ActivityEvent:
    """The activity log event a fact describes; :class:`InvalidActivity` for an actor type the
    log does not know."""
    actor_type = _ACTOR_TYPES.get(fact.actor.type)
    if actor_type is None:
        raise InvalidActivity(f"event {fact.event_id!r} has no actor type")
    occurred = fact.occurred_at.ToDatetime(UTC) if fact.HasField("occurred_at") else received_at
    return ActivityEvent(
        event_id=fact.event_id,
        created_at=occurred,
        team_id=fact.team_id,
        project_id=fact.project_id,
        type=fact.type,
        actor_id=fact.actor.id,
        actor_type=actor_type,
        account_type=ACCOUNT_TYPE,
        target_type=fact.target.type,
        target_id=fact.target.id,
        details=dict(fact.details),
    )


class ActivityFactConsumer:
    """Applies ActivityRecorded deliveries once each (by event id), a fetched batch at a time."""

    def __init__(self, service: ActivityService) -> None:
        self._service = service

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """ACK when stored or a duplicate, TERM for a fact that can never be stored (the others
        proceed), NAK for all when the database fails."""
        received_at = datetime.now(UTC)
        outcomes = [Outcome.TERM] * len(deliveries)
        positions: list[int] = []
        events: list[ActivityEvent] = []
        for index, delivery in enumerate(deliveries):
            event = _decode(delivery, received_at)
            if event is not None:
                positions.append(index)
                events.append(event)
        if not events:
            return outcomes
        try:
            results = await self._service.record_events(events)
        except SQLAlchemyError as exc:
            log.warning("activity-log: database error; redelivering later: %s", type(exc).__name__)
            return [Outcome.NAK] * len(deliveries)
        for index, result in zip(positions, results, strict=True):
            outcomes[index] = _OUTCOMES[result]
        return outcomes

    async def run(self, bus: Bus, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, re-subscribing after a failure of the subscription."""
        while not stop.is_set():
            try:
                await bus.consume_batches(
                    stream=ACTIVITY_STREAM,
                    subject=ACTIVITY_RECORDED,
                    durable=ACTIVITY_CONSUMER,
                    handler=self.handle_batch,
                    stop=stop,
                    linger_seconds=BATCH_LINGER_SECONDS,
                )
            except TimeoutError:
                continue  # nats-py's idle fetch timeout escaping: subscribe again
            except Exception:
                log.exception("activity-log consumer failed; restarting")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RESTART_DELAY_SECONDS)


def _decode(delivery: Delivery, received_at: datetime) -> ActivityEvent | None:
    try:
        fact = ActivityRecorded.FromString(delivery.data)
    except DecodeError:
        log.error("terminating undecodable ActivityRecorded %r", delivery.msg_id)
        return None
    try:
        return event_from_fact(fact, received_at)
    except InvalidActivity as exc:
        log.error("terminating invalid ActivityRecorded %r: %s", delivery.msg_id, exc)
        return None
