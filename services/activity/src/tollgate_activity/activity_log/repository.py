"""The activity log in SQL; owns the sessions and transactions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common.inbox import IdempotentWriter, Row, Stored

from tollgate_activity.activity_log.events import EVENT_FIELDS, ActivityEvent, EventFilter
from tollgate_activity.keyset import newest_first
from tollgate_activity.models import activity_log, inbox
from tollgate_activity.pagination import Cursor

ACTIVITY_CONSUMER = "activity-log"


class ActivityLogRepository:
    """Implements :class:`tollgate_activity.activity_log.service.ActivityLog`."""

    def __init__(self, engine: AsyncEngine, consumer: str = ACTIVITY_CONSUMER) -> None:
        self._engine = engine
        # The event id is the fact's idempotency key (its Nats-Msg-Id).
        self._writer = IdempotentWriter(engine, inbox, consumer, activity_log)

    async def record_many(self, events: Sequence[ActivityEvent]) -> list[Stored]:
        return await self._writer.insert_many([(e.event_id, _row(e)) for e in events])

    async def list_page(
        self, team_id: str, event_filter: EventFilter, after: Cursor | None, limit: int
    ) -> list[ActivityEvent]:
        query = newest_first(
            activity_log,
            "event_id",
            team_id,
            (
                ("type", event_filter.type),
                ("actor_id", event_filter.actor_id),
                ("project_id", event_filter.project_id),
            ),
            event_filter.time_range,
            after,
            limit,
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_event(row) for row in rows]


def _row(event: ActivityEvent) -> Row:
    row = {name: getattr(event, name) for name in EVENT_FIELDS}
    row["details"] = dict(event.details)
    return row


def _event(row: RowMapping) -> ActivityEvent:
    return ActivityEvent(**{name: row[name] for name in EVENT_FIELDS})
