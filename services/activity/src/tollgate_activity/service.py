"""Activity's business rules on typed values: the request log and its pagination."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from tollgate_common.inbox import Stored

from tollgate_activity.errors import InvalidUsage, invalid_field
from tollgate_activity.models import (
    APP_REFERER_LENGTH,
    APP_TITLE_LENGTH,
    ID_LENGTH,
    NAME_LENGTH,
    SHORT_LENGTH,
)

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE_TOKEN_LENGTH = 512
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
    """Optional equality filters; empty means any."""

    model: str = ""
    provider: str = ""
    project_id: str = ""


@dataclass(frozen=True)
class Cursor:
    """Position after which the next page starts (newest first)."""

    created_at: datetime
    generation_id: str


@dataclass(frozen=True)
class Page:
    entries: tuple[RequestLogEntry, ...]
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


def encode_page_token(cursor: Cursor) -> str:
    """An opaque cursor: base64url (unpadded) of a small JSON object."""
    body = {"t": cursor.created_at.isoformat(), "g": cursor.generation_id}
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_page_token(token: str) -> Cursor:
    """The cursor in ``token``; INVALID_ARGUMENT (param ``page_token``) if it is not one."""
    invalid = invalid_field("page_token", "page_token is not valid")
    if len(token) > MAX_PAGE_TOKEN_LENGTH:
        raise invalid
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        body = json.loads(raw)
        created_at, generation_id = body["t"], body["g"]
        if not isinstance(created_at, str) or not isinstance(generation_id, str):
            raise invalid
        cursor = Cursor(datetime.fromisoformat(created_at), generation_id)
    except (ValueError, KeyError, TypeError) as exc:
        raise invalid from exc
    if not cursor.generation_id or cursor.created_at.tzinfo is None:
        raise invalid
    return cursor


def page_limit(page_size: int) -> int:
    if page_size < 0:
        raise invalid_field("page_size", "page_size must not be negative")
    return min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


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
    return replace(
        entry,
        app_title=entry.app_title[:APP_TITLE_LENGTH].replace("\x00", ""),
        app_referer=entry.app_referer[:APP_REFERER_LENGTH].replace("\x00", ""),
    )


class ActivityService:
    def __init__(self, store: RequestLogStore) -> None:
        self._store = store

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
        valid: list[RequestLogEntry] = []
        rejected: set[int] = set()
        for index, entry in enumerate(entries):
            try:
                valid.append(validate_entry(entry))
            except InvalidUsage as exc:
                log.error("rejecting request %r: %s", entry.generation_id, exc)
                rejected.add(index)
        stored = iter(await self._store.record_many(valid) if valid else ())
        final = [Stored.REJECTED if i in rejected else next(stored) for i in range(len(entries))]
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
    ) -> Page:
        """One page of ``team_id``'s request log, newest first."""
        if not team_id:
            raise invalid_field("team_id", "team_id is required")
        limit = page_limit(page_size)
        after = decode_page_token(page_token) if page_token else None
        rows = await self._store.list_page(
            team_id, request_filter or RequestFilter(), after, limit + 1
        )
        entries = tuple(rows[:limit])
        if len(rows) <= limit:
            return Page(entries, "")
        last = entries[-1]
        return Page(entries, encode_page_token(Cursor(last.created_at, last.generation_id)))
