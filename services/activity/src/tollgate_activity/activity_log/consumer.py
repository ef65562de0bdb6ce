"""The durable ``activity-log`` consumer: ActivityRecorded facts → activity log events."""

from __future__ import annotations

from datetime import UTC, datetime

from tollgate.events.v1.activity_pb2 import ActivityRecorded, ActorType
from tollgate_common.fact_consumer import ACTIVITY_FACTS, FactConsumer

from tollgate_activity.activity_log.events import ACCOUNT_TYPE, ActivityEvent
from tollgate_activity.activity_log.repository import ACTIVITY_CONSUMER
from tollgate_activity.activity_log.service import ActivityLogService
from tollgate_activity.errors import InvalidActivity

_ACTOR_TYPES = {
    ActorType.ACTOR_TYPE_USER: "user",
    ActorType.ACTOR_TYPE_API_KEY: "api-key",
    ActorType.ACTOR_TYPE_SYSTEM: "system",
}


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


class ActivityFactConsumer(FactConsumer[ActivityRecorded, ActivityEvent]):
    """The durable ``activity-log`` consumer (see :mod:`tollgate_common.fact_consumer`):
    applies each ActivityRecorded fact once (by event id)."""

    def __init__(self, service: ActivityLogService) -> None:
        super().__init__(
            ACTIVITY_FACTS,
            durable=ACTIVITY_CONSUMER,
            convert=event_from_fact,
            store=service.record_events,
            invalid=InvalidActivity,
        )
