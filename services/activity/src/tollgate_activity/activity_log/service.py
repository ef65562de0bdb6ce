"""The activity log's rules on typed values: storing valid events once each, and listing a
team's events newest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tollgate_common.inbox import Stored

from tollgate_activity.activity_log.events import ActivityEvent, EventFilter, validate_event
from tollgate_activity.batches import merged, validated
from tollgate_activity.errors import InvalidActivity
from tollgate_activity.pagination import Cursor, Page, list_args, page_of


class ActivityLog(Protocol):
    """Where the activity log is kept (:class:`~.repository.ActivityLogRepository`)."""

    async def record_many(self, events: Sequence[ActivityEvent]) -> list[Stored]:
        """Store each event not seen before (by event id); one result per event, in order."""
        ...

    async def list_page(
        self, team_id: str, event_filter: EventFilter, after: Cursor | None, limit: int
    ) -> list[ActivityEvent]:
        """Up to ``limit`` events of ``team_id``, newest first, strictly after ``after``."""
        ...


class ActivityLogService:
    def __init__(self, repository: ActivityLog) -> None:
        self._repository = repository

    async def record_events(self, events: Sequence[ActivityEvent]) -> list[Stored]:
        """Add activity events to their teams' logs, each exactly once; one result per event,
        in order (REJECTED for an invalid one, which does not hold up the others)."""
        valid, rejected = validated(events, validate_event, InvalidActivity, "activity event")
        final = merged(
            await self._repository.record_many(valid) if valid else [], rejected, len(events)
        )
        return final

    async def list_events(
        self,
        team_id: str,
        *,
        page_size: int = 0,
        page_token: str = "",
        event_filter: EventFilter | None = None,
    ) -> Page[ActivityEvent]:
        """One page of ``team_id``'s activity log, newest first."""
        event_filter = event_filter or EventFilter()
        limit, after = list_args(team_id, page_size, page_token, event_filter.time_range)
        rows = await self._repository.list_page(team_id, event_filter, after, limit + 1)
        return page_of(rows, limit, lambda e: Cursor(e.created_at, e.event_id))
