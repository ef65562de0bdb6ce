"""Lists newest first: opaque cursors, page sizes and time ranges (shared by every list)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from tollgate_activity.errors import invalid_field

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE_TOKEN_LENGTH = 512


@dataclass(frozen=True)
class Cursor:
    """Position after which the next page starts (newest first, ties broken by id)."""

    created_at: datetime
    id: str


Item = TypeVar("Item")


@dataclass(frozen=True)
class Page(Generic[Item]):
    entries: tuple[Item, ...]
    next_page_token: str


@dataclass(frozen=True)
class TimeRange:
    """``since`` inclusive, ``until`` exclusive; None means unbounded."""

    since: datetime | None = None
    until: datetime | None = None


def encode_page_token(cursor: Cursor) -> str:
    """An opaque cursor: base64url (unpadded) of a small JSON object."""
    body = {"t": cursor.created_at.isoformat(), "g": cursor.id}
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
        created_at, item_id = body["t"], body["g"]
        if not isinstance(created_at, str) or not isinstance(item_id, str):
            raise invalid
        cursor = Cursor(datetime.fromisoformat(created_at), item_id)
    except (ValueError, KeyError, TypeError) as exc:
        raise invalid from exc
    if not cursor.id or cursor.created_at.tzinfo is None:
        raise invalid
    return cursor


def page_limit(page_size: int) -> int:
    if page_size < 0:
        raise invalid_field("page_size", "page_size must not be negative")
    return min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def check_range(time_range: TimeRange) -> TimeRange:
    """``time_range`` itself; INVALID_ARGUMENT (param ``until``) if it ends before it starts."""
    since, until = time_range.since, time_range.until
    if since is not None and until is not None and until < since:
        raise invalid_field("until", "until must not be before since")
    return time_range


def list_args(
    team_id: str, page_size: int, page_token: str, time_range: TimeRange
) -> tuple[int, Cursor | None]:
    """A list's page size and starting cursor; INVALID_ARGUMENT for bad ones."""
    if not team_id:
        raise invalid_field("team_id", "team_id is required")
    check_range(time_range)
    limit = page_limit(page_size)
    return limit, decode_page_token(page_token) if page_token else None


def page_of(items: list[Item], limit: int, cursor_of: Callable[[Item], Cursor]) -> Page[Item]:
    """A page of the first ``limit`` of ``items`` (fetched one more than that)."""
    entries = tuple(items[:limit])
    if len(items) <= limit:
        return Page(entries, "")
    return Page(entries, encode_page_token(cursor_of(entries[-1])))
