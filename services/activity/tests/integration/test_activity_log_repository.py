"""The activity log against a real database (SQLite; PostgreSQL if set): stored once per
event id, newest first, filtered, paged, and only ever the caller's team."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_activity.activity_log.events import ActivityEvent, EventFilter
from tollgate_activity.activity_log.repository import ActivityLogRepository
from tollgate_activity.activity_log.service import ActivityLogService
from tollgate_activity.pagination import TimeRange
from tollgate_common.inbox import Stored

T0 = datetime(2026, 4, 1, 8, 0, 0, tzinfo=UTC)


def _event(event_id: str, minutes: int = 0, **changes: object) -> ActivityEvent:
    event = ActivityEvent(
        event_id=event_id,
        created_at=T0 + timedelta(minutes=minutes),
        team_id="team_a",
        project_id="",
        type="api-key-created",
        actor_id="user_1",
        actor_type="user",
        account_type="team",
        target_type="api-key",
        target_id="key_1",
        details={"name": "ci"},
    )
    return replace(event, **changes)  # type: ignore[arg-type]


@pytest.fixture
def service(engine: AsyncEngine) -> ActivityLogService:
    return ActivityLogService(ActivityLogRepository(engine))


async def _ids(
    service: ActivityLogService, team_id: str = "team_a", **filters: object
) -> list[str]:
    page = await service.list_events(team_id, event_filter=EventFilter(**filters))  # type: ignore[arg-type]
    return [event.event_id for event in page.entries]


async def test_an_event_round_trips_and_is_stored_once(service: ActivityLogService) -> None:
    event = _event("evt_1", details={"name": "ci", "role": "member"})
    assert await service.record_events([event, event]) == [Stored.NEW, Stored.DUPLICATE]
    assert await service.record_events([_event("evt_1", type="team-delete")]) == [Stored.DUPLICATE]
    page = await service.list_events("team_a")
    assert page.entries == (event,)
    assert page.next_page_token == ""


async def test_invalid_events_are_rejected_without_holding_up_the_others(
    service: ActivityLogService,
) -> None:
    results = await service.record_events(
        [
            _event("evt_1"),
            _event("evt_2", team_id=""),
            _event("evt_3", actor_type="robot"),
            _event("evt_4", details={"k": "v" * 5000}),
            _event("evt_5", 1),
        ]
    )
    assert results == [Stored.NEW, *[Stored.REJECTED] * 3, Stored.NEW]
    assert await _ids(service) == ["evt_5", "evt_1"]


async def test_filters_pages_and_team_scope(service: ActivityLogService) -> None:
    await service.record_events(
        [
            _event("evt_1", 1, type="team-member-add", target_type="user", target_id="user_2"),
            _event("evt_2", 2, actor_id="key_9", actor_type="api-key"),
            _event("evt_3", 3, type="project-delete", project_id="prj_1"),
            _event("evt_4", 4),
            _event("evt_5", 4),  # same time: ties broken by id
            _event("evt_b", 5, team_id="team_b"),
        ]
    )
    assert await _ids(service) == ["evt_5", "evt_4", "evt_3", "evt_2", "evt_1"]
    assert await _ids(service, type="team-member-add") == ["evt_1"]
    assert await _ids(service, actor_id="key_9") == ["evt_2"]
    assert await _ids(service, project_id="prj_1") == ["evt_3"]
    window = TimeRange(T0 + timedelta(minutes=2), T0 + timedelta(minutes=4))
    assert await _ids(service, time_range=window) == ["evt_3", "evt_2"]
    assert await _ids(service, "team_b") == ["evt_b"]
    assert await _ids(service, "team_c") == []

    pages: list[list[str]] = []
    token = ""
    while True:
        page = await service.list_events("team_a", page_size=2, page_token=token)
        pages.append([event.event_id for event in page.entries])
        token = page.next_page_token
        if not token:
            break
    assert pages == [["evt_5", "evt_4"], ["evt_3", "evt_2"], ["evt_1"]]
    # Another team's cursor shows nothing of this team.
    first = await service.list_events("team_a", page_size=2)
    other = await service.list_events("team_b", page_token=first.next_page_token)
    assert [event.team_id for event in other.entries] == []
