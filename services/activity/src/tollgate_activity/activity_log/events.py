"""The activity log's values: one event of a team, its filter, and what a valid one is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime

from tollgate_activity.errors import InvalidActivity
from tollgate_activity.models import ID_LENGTH, NAME_LENGTH, SHORT_LENGTH
from tollgate_activity.pagination import TimeRange

ACTOR_TYPES = frozenset({"user", "api-key", "system"})
ACCOUNT_TYPE = "team"
# Details are small (names, roles, amounts): keep a misbehaving producer from bloating the log.
MAX_DETAILS = 50
MAX_DETAIL_LENGTH = 1000

_LIMITS = (
    (("event_id", "team_id", "project_id", "actor_id", "target_id"), ID_LENGTH),
    (("type", "target_type"), NAME_LENGTH),
    (("actor_type", "account_type"), SHORT_LENGTH),
)


@dataclass(frozen=True)
class ActivityEvent:
    """Who did what in a team, and when (never secrets)."""

    event_id: str
    created_at: datetime
    team_id: str
    project_id: str
    type: str
    actor_id: str
    actor_type: str
    account_type: str
    target_type: str
    target_id: str
    details: Mapping[str, str] = field(default_factory=dict)


EVENT_FIELDS = tuple(f.name for f in fields(ActivityEvent))


@dataclass(frozen=True)
class EventFilter:
    """Optional equality filters (empty means any) and a time range."""

    type: str = ""
    actor_id: str = ""
    project_id: str = ""
    time_range: TimeRange = field(default_factory=TimeRange)


def validate_event(event: ActivityEvent) -> ActivityEvent:
    """``event`` if it can be stored, else :class:`InvalidActivity`."""
    for name in ("event_id", "team_id", "type"):
        if not getattr(event, name):
            raise InvalidActivity(f"{name} is empty")
    for names, limit in _LIMITS:
        for name in names:
            value = getattr(event, name)
            if len(value) > limit:
                raise InvalidActivity(f"{name} is longer than {limit} characters")
            if "\x00" in value:
                raise InvalidActivity(f"{name} contains a NUL character")
    if event.actor_type not in ACTOR_TYPES:
        raise InvalidActivity(
            f"actor type {event.actor_type!r} is not one of {sorted(ACTOR_TYPES)}"
        )
    if len(event.details) > MAX_DETAILS:
        raise InvalidActivity(f"more than {MAX_DETAILS} details")
    for key, value in event.details.items():
        if len(key) > NAME_LENGTH or len(value) > MAX_DETAIL_LENGTH:
            raise InvalidActivity(f"detail {key[:50]!r} is too long")
        if "\x00" in key or "\x00" in value:
            raise InvalidActivity("a detail contains a NUL character")
    if event.created_at.tzinfo is None:
        raise InvalidActivity("created_at has no time zone")
    return event
