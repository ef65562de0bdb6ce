"""The request log's rules on typed values: what an entry is (its usage fact), which entries can
be stored, and listing a team's entries newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_common.inbox import Stored
from tollgate_common.usage_record import UsageRecord, usage_record

from tollgate_activity.batches import merged, validated
from tollgate_activity.errors import InvalidUsage
from tollgate_activity.models import REQUEST_ROWS
from tollgate_activity.pagination import Cursor, Page, TimeRange, list_args, page_of

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


class RequestLog(Protocol):
    """Where the request log is kept (:class:`~.repository.RequestLogRepository`)."""

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


class RequestLogService:
    def __init__(self, repository: RequestLog) -> None:
        self._repository = repository

    async def record_request(self, entry: RequestLogEntry) -> bool:
        """Add a finished request to its team's log exactly once; False for a repeat."""
        return await self._repository.record(validate_entry(entry))

    async def record_requests(self, entries: Sequence[RequestLogEntry]) -> list[Stored]:
        """Add many finished requests to their teams' logs, each exactly once; one result per
        entry, in order. An invalid entry is REJECTED (and logged) without holding up the
        others."""
        valid, rejected = validated(entries, validate_entry, InvalidUsage, "request")
        final = merged(
            await self._repository.record_many(valid) if valid else [], rejected, len(entries)
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
        limit, after = list_args(team_id, page_size, page_token, request_filter.time_range)
        rows = await self._repository.list_page(team_id, request_filter, after, limit + 1)
        return page_of(rows, limit, lambda e: Cursor(e.created_at, e.generation_id))
