"""Activity's business rules on typed values: the request log, the activity log and
observability queries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

from tollgate_common.inbox import Stored

from tollgate_activity.errors import InvalidActivity, InvalidUsage, invalid_field
from tollgate_activity.events import ActivityEvent, EventFilter, validate_event
from tollgate_activity.models import (
    APP_REFERER_LENGTH,
    APP_TITLE_LENGTH,
    ID_LENGTH,
    NAME_LENGTH,
    SHORT_LENGTH,
)
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

# Money columns are NUMERIC(38, 18): at most 20 digits before the point.
MAX_AMOUNT = Decimal(10) ** 20

_LIMITS = (
    (("generation_id", "team_id", "project_id", "key_id"), ID_LENGTH),
    (("model", "provider"), NAME_LENGTH),
    (("credential_type", "finish_reason", "status"), SHORT_LENGTH),
)
_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "ttft_ms",
    "latency_ms",
    "attempts",
)


@dataclass(frozen=True)
class RequestLogEntry:
    """One request of a team, as its request log shows it (no prompt, no completion)."""

    generation_id: str
    created_at: datetime
    team_id: str
    project_id: str
    key_id: str
    model: str
    provider: str
    credential_type: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int
    cost: Decimal
    market_cost: Decimal
    ttft_ms: int
    latency_ms: int
    streamed: bool
    finish_reason: str
    status: str
    app_title: str
    app_referer: str
    attempts: int


ENTRY_FIELDS = tuple(f.name for f in fields(RequestLogEntry))


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
    for name in ("generation_id", "team_id"):
        if not getattr(entry, name):
            raise InvalidUsage(f"{name} is empty")
    for names, limit in _LIMITS:
        for name in names:
            value = getattr(entry, name)
            if len(value) > limit:
                raise InvalidUsage(f"{name} is longer than {limit} characters")
            if "\x00" in value:  # PostgreSQL cannot store it
                raise InvalidUsage(f"{name} contains a NUL character")
    for name in _COUNTS:
        if getattr(entry, name) < 0:
            raise InvalidUsage(f"{name} is negative")
    for name, amount in (("cost", entry.cost), ("market_cost", entry.market_cost)):
        if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
            raise InvalidUsage(f"{name} is out of range: {amount}")
    if entry.created_at.tzinfo is None:
        raise InvalidUsage("created_at has no time zone")
    app_title = entry.app_title[:APP_TITLE_LENGTH].replace("\x00", "")
    app_referer = entry.app_referer[:APP_REFERER_LENGTH].replace("\x00", "")
    if app_title == entry.app_title and app_referer == entry.app_referer:
        return entry  # the usual case: no copy
    return replace(entry, app_title=app_title, app_referer=app_referer)


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
