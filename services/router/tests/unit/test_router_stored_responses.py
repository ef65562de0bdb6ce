"""Kept responses of the Responses API on a real router database (SQLite, and PostgreSQL when
TOLLGATE_TEST_POSTGRES_URL is set): a response is read back by its own team only, replaced by
the same id, deleted at once on request, gone after its retention and swept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common.db import create_engine, migrate_async
from tollgate_common.errors import InvalidArgument, NotFound
from tollgate_common.testing import scratch_database
from tollgate_router.app import MIGRATIONS
from tollgate_router.stored_responses.repository import StoredResponseRepository
from tollgate_router.stored_responses.service import StoredResponses

DAY = 86_400.0


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with scratch_database(request.param, tmp_path, "router_responses") as url:
        await migrate_async(url, MIGRATIONS)
        engine = create_engine(url)
        yield engine
        await engine.dispose()


def kept(engine: AsyncEngine, clock: Clock) -> StoredResponses:
    return StoredResponses(
        StoredResponseRepository(engine), retention_seconds=30 * DAY, clock=clock
    )


async def test_a_response_is_read_back_by_its_own_team_only(engine: AsyncEngine) -> None:
    clock = Clock()
    store = kept(engine, clock)
    expires = await store.store("team_a", "resp_01ABC", '{"id": "resp_01ABC"}', "[1, 2]")
    assert expires == clock.now + timedelta(days=30)

    found = await store.get("team_a", "resp_01ABC")
    assert (found.id, found.response_json, found.input_json) == (
        "resp_01ABC",
        '{"id": "resp_01ABC"}',
        "[1, 2]",
    )
    for team, response_id in (("team_b", "resp_01ABC"), ("team_a", "resp_other"), ("", "x")):
        with pytest.raises(NotFound):
            await store.get(team, response_id)
    with pytest.raises(NotFound):
        await store.delete("team_b", "resp_01ABC")
    assert (await store.get("team_a", "resp_01ABC")).input_json == "[1, 2]"


async def test_the_same_id_replaces_and_delete_forgets_at_once(engine: AsyncEngine) -> None:
    store = kept(engine, Clock())
    await store.store("team_a", "resp_1", '{"v": 1}', "[]")
    await store.store("team_a", "resp_1", '{"v": 2}', "[]")
    assert (await store.get("team_a", "resp_1")).response_json == '{"v": 2}'

    await store.delete("team_a", "resp_1")
    with pytest.raises(NotFound):
        await store.get("team_a", "resp_1")
    with pytest.raises(NotFound):
        await store.delete("team_a", "resp_1")


async def test_a_response_is_gone_after_its_retention_and_swept(engine: AsyncEngine) -> None:
    clock = Clock()
    store = kept(engine, clock)
    await store.store("team_a", "resp_old", "{}", "[]")
    clock.now += timedelta(days=20)
    await store.store("team_a", "resp_new", "{}", "[]")
    clock.now += timedelta(days=10, seconds=1)

    with pytest.raises(NotFound):
        await store.get("team_a", "resp_old")
    assert await store.sweep() == 1
    assert (await store.get("team_a", "resp_new")).id == "resp_new"


async def test_ids_that_are_not_response_ids_are_refused(engine: AsyncEngine) -> None:
    store = kept(engine, Clock())
    for bad in ("gen_1", "resp_", "resp_" + "x" * 65, "resp_a b"):
        with pytest.raises(InvalidArgument):
            await store.store("team_a", bad, "{}", "[]")
    with pytest.raises(InvalidArgument):
        await store.store("", "resp_1", "{}", "[]")
