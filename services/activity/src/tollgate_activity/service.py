"""Activity's business rules on typed values: the request log, the activity log and
observability queries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_common.inbox import Stored
from tollgate_common.usage_record import UsageRecord, usage_record

from tollgate_activity.errors import InvalidActivity, InvalidUsage, invalid_field
from tollgate_activity.events import ActivityEvent, EventFilter, validate_event
from tollgate_activity.models import REQUEST_ROWS
from tollgate_activity.observability import (
    Metric,
    ObservabilityQuery,
    Series,
    resolve_query,
)
from tollgate_activity.pagination import (
    Cursor,
    TimeRange,
    check_range,
    decode_page_token,
    encode_page_token,
    page_limit,
)
from tollgate_activity.rollups import Resolution

log = logging.getLogger(__name__)

# App attribution (the X-Title and HTTP-Referer headers) longer than this is clipped, not
# refused: a request is logged whatever its app says.
APP_TITLE_LENGTH = 300
APP_REFERER_LENGTH = 2000

# One request of a team, as its request log shows it (no prompt, no completion): its usage fact.
RequestLogEntry = UsageRecord


def entry_from_fact(fact: UsageRecorded, received_at: datetime) -> RequestLogEntry:
    """The request log entry a fact describes; :class:`InvalidUsage` for non-decimal amounts."""
    try:
        return usage_record(fact, received_at)
    except ValueError as exc:
        raise InvalidUsage(str(exc)) from exc


@dataclass(frozen=True)
class RequestFilter:
    """Optional equality filters (empty means any) and a time range."""

    model: str = ""
    provider: str = ""
    project_id: str = ""
    time_range: TimeRange = field(default_factory=TimeRange)


Item = TypeVar("Item")


@dataclass(frozen=True)
class Page(Generic[Item]):
    entries: tuple[Item, ...]
    next_page_token: str


class RequestLogStore(Protocol):
    async def record(self, entry: RequestLogEntry) -> bool:
        """Store ``entry`` unless its generation was seen before; True if stored now."""
        ...

    async def record_many(self, entries: Sequence[RequestLogEntry]) -> list[Stored]:
        """Store each entry whose generation was not seen before (a repeat within ``entries``
        is a duplicate too), in one transaction where possible; one result per entry, in
        order: REJECTED for values the database refuses. Raises for failures that may pass."""
        ...

    async def list_page(
        self, team_id: str, request_filter: RequestFilter, after: Cursor | None, limit: int
    ) -> list[RequestLogEntry]:
        """Up to ``limit`` entries of ``team_id``, newest first, strictly after ``after``."""
        ...

    async def read_rollups(self, query: ObservabilityQuery) -> list[Series]:
        """The rollup rows of the query's team, scope and resolution in its range."""
        ...


class ActivityLogStore(Protocol):
    async def record_many(self, events: Sequence[ActivityEvent]) -> list[Stored]:
        """Store each event not seen before (by event id); one result per event, in order."""
        ...

    async def list_page(
        self, team_id: str, event_filter: EventFilter, after: Cursor | None, limit: int
    ) -> list[ActivityEvent]:
        """Up to ``limit`` events of ``team_id``, newest first, strictly after ``after``."""
        ...


def validate_entry(entry: RequestLogEntry) -> RequestLogEntry:
    """The entry as stored (app attribution clipped), or :class:`InvalidUsage`."""
    try:
        REQUEST_ROWS.check(entry)
    except ValueError as exc:
        raise InvalidUsage(str(exc)) from exc
    fact = entry.fact
    app_title = fact.app_title[:APP_TITLE_LENGTH].replace("\x00", "")
    app_referer = fact.app_referer[:APP_REFERER_LENGTH].replace("\x00", "")
    if app_title == fact.app_title and app_referer == fact.app_referer:
        return entry  # the usual case: no copy
    return usage_record(fact, entry.created_at, app_title=app_title, app_referer=app_referer)


def _page(items: list[Item], limit: int, cursor_of: Callable[[Item], Cursor]) -> Page[Item]:
    """A page of the first ``limit`` of ``items`` (fetched one more than that)."""
    entries = tuple(items[:limit])
    if len(items) <= limit:
        return Page(entries, "")
    return Page(entries, encode_page_token(cursor_of(entries[-1])))


def _validated(
    items: Sequence[Item], validate: Callable[[Item], Item], invalid: type[Exception], what: str
) -> tuple[list[Item], set[int]]:
    """The valid items (validated) and the positions of the invalid ones (logged)."""
    valid: list[Item] = []
    rejected: set[int] = set()
    for index, item in enumerate(items):
        try:
            valid.append(validate(item))
        except invalid as exc:
            log.error("rejecting %s %d of a batch: %s", what, index, exc)
            rejected.add(index)
    return valid, rejected


def _merge(results: Sequence[Stored], rejected: set[int], total: int) -> list[Stored]:
    stored = iter(results)
    return [Stored.REJECTED if i in rejected else next(stored) for i in range(total)]


class ActivityService:
    def __init__(self, store: RequestLogStore, events: ActivityLogStore) -> None:
        self._store = store
        self._events = events

    async def record_request(self, entry: RequestLogEntry) -> bool:
        """Add a finished request to its team's log exactly once; False for a repeat."""
        stored = await self._store.record(validate_entry(entry))
        if stored:
            log.info("logged request %s of team %s", entry.generation_id, entry.team_id)
        else:
            log.info("request %s already logged; duplicate ignored", entry.generation_id)
        return stored

    async def record_requests(self, entries: Sequence[RequestLogEntry]) -> list[Stored]:
        """Add many finished requests to their teams' logs, each exactly once; one result per
        entry, in order. An invalid entry is REJECTED (and logged) without holding up the
        others."""
        valid, rejected = _validated(entries, validate_entry, InvalidUsage, "request")
        final = _merge(
            await self._store.record_many(valid) if valid else [], rejected, len(entries)
        )
        log.info(
            "logged %d requests (%d duplicates ignored, %d rejected)",
            final.count(Stored.NEW),
            final.count(Stored.DUPLICATE),
            final.count(Stored.REJECTED),
        )
        return final

    async def list_requests(
        self,
        team_id: str,
        *,
        page_size: int = 0,
        page_token: str = "",
        request_filter: RequestFilter | None = None,
    ) -> Page[RequestLogEntry]:
        """One page of ``team_id``'s request log, newest first."""
        request_filter = request_filter or RequestFilter()
        limit, after = _list_args(team_id, page_size, page_token, request_filter.time_range)
        rows = await self._store.list_page(team_id, request_filter, after, limit + 1)
        return _page(rows, limit, lambda e: Cursor(e.created_at, e.generation_id))

    async def record_events(self, events: Sequence[ActivityEvent]) -> list[Stored]:
        """Add activity events to their teams' logs, each exactly once; one result per event,
        in order (REJECTED for an invalid one, which does not hold up the others)."""
        valid, rejected = _validated(events, validate_event, InvalidActivity, "activity event")
        final = _merge(
            await self._events.record_many(valid) if valid else [], rejected, len(events)
        )
        log.info(
            "logged %d activity events (%d duplicates ignored, %d rejected)",
            final.count(Stored.NEW),
            final.count(Stored.DUPLICATE),
            final.count(Stored.REJECTED),
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
        limit, after = _list_args(team_id, page_size, page_token, event_filter.time_range)
        rows = await self._events.list_page(team_id, event_filter, after, limit + 1)
        return _page(rows, limit, lambda e: Cursor(e.created_at, e.event_id))

    async def observability(
        self,
        team_id: str,
        *,
        project_id: str = "",
        resolution: Resolution | None = None,
        time_range: TimeRange | None = None,
        metric: Metric = Metric.REQUESTS,
        now: datetime | None = None,
    ) -> tuple[ObservabilityQuery, list[Series]]:
        """The series of ``team_id`` (or of one of its projects) over the range, per model,
        read from the rollups; the query as answered (defaults filled, range aligned)."""
        time_range = time_range or TimeRange()
        query = resolve_query(
            team_id,
            project_id,
            resolution,
            time_range.since,
            time_range.until,
            now or datetime.now(UTC),
            metric,
        )
        return query, await self._store.read_rollups(query)


def _list_args(
    team_id: str, page_size: int, page_token: str, time_range: TimeRange
) -> tuple[int, Cursor | None]:
    """A list's page size and starting cursor; INVALID_ARGUMENT for bad ones."""
    if not team_id:
        raise invalid_field("team_id", "team_id is required")
    check_range(time_range)
    limit = page_limit(page_size)
    return limit, decode_page_token(page_token) if page_token else None
