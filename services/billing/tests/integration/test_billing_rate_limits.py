"""Rate limits on a real database: requests and tokens per fixed UTC minute, tokens corrected
to what a request used, concurrency slots freed at the end or when their lease expires, limits
per team, project and key, exact under concurrent admissions, and their activity events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate.events.v1 import activity_pb2
from tollgate_billing.errors import RateLimited, RateLimitNotFound
from tollgate_billing.limits.repository import RateLimitRepository
from tollgate_billing.limits.service import RateLimitService
from tollgate_common.errors import InvalidArgument

from .support import Clock, Facts

SLOT_SECONDS = 600


class World:
    def __init__(self, engine: AsyncEngine) -> None:
        self.clock = Clock()
        self.clock.now = datetime(2026, 3, 10, 12, 0, 10, tzinfo=UTC)
        self.facts = Facts()
        self.engine = engine
        self.limits = RateLimitService(
            RateLimitRepository(engine, SLOT_SECONDS), self.facts, self.clock
        )
        self.slots = 0

    async def admit(self, tokens: int = 10, project: str = "prj_1", key: str = "key_1") -> str:
        self.slots += 1
        slot = f"slot_{self.slots}"
        await self.limits.admit("team_a", project, key, slot, tokens)
        return slot

    def types(self) -> list[str]:
        return [activity_pb2.ActivityRecorded.FromString(f.payload).type for f in self.facts.facts]


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    return World(engine)


async def put(world: World, scope: str, scope_id: str, **numbers: int) -> None:
    await world.limits.put(
        "team_a",
        scope,
        scope_id,
        requests_per_minute=numbers.get("rpm"),
        tokens_per_minute=numbers.get("tpm"),
        concurrent_requests=numbers.get("concurrent"),
        actor_id="user_1",
    )


async def test_requests_per_minute_refuse_until_the_next_minute(world: World) -> None:
    await put(world, "key", "key_1", rpm=2)
    await world.admit()
    await world.admit()
    with pytest.raises(RateLimited) as refused:
        await world.admit()
    assert refused.value.metadata["type"] == "requests"
    assert refused.value.metadata["param"] == "requestsPerMinute"
    assert refused.value.metadata["code"] == "rate_limit_exceeded"
    assert refused.value.metadata["retry_after"] == "50"
    assert refused.value.metadata["limit"] == "2"
    assert refused.value.metadata["remaining"] == "0"
    assert refused.value.metadata["reset_ms"] == "50000"
    assert "key key_1" in refused.value.message
    world.clock.now += timedelta(seconds=50)
    await world.admit()


async def test_tokens_count_the_estimate_until_corrected_by_the_usage(world: World) -> None:
    await put(world, "team", "team_a", tpm=100)
    first = await world.admit(tokens=80)
    with pytest.raises(RateLimited) as refused:
        await world.admit(tokens=30)
    assert refused.value.metadata["type"] == "tokens"
    assert refused.value.metadata["param"] == "tokensPerMinute"
    await world.limits.finish("team_a", first, 10)  # it used far less than estimated
    await world.admit(tokens=30)
    await world.admit(tokens=60)
    with pytest.raises(RateLimited):
        await world.admit(tokens=1)


async def test_concurrency_slots_free_at_the_end_or_when_their_lease_expires(
    world: World,
) -> None:
    await put(world, "project", "prj_1", concurrent=1)
    running = await world.admit()
    with pytest.raises(RateLimited) as refused:
        await world.admit()
    assert refused.value.metadata["param"] == "concurrentRequests"
    assert refused.value.metadata["retry_after"] == "1"
    await world.admit(project="prj_2")  # another project is not limited
    await world.limits.finish("team_a", running, 10)
    await world.admit()  # this one's router dies: it never finishes
    with pytest.raises(RateLimited):
        await world.admit()
    world.clock.now += timedelta(seconds=SLOT_SECONDS)
    await world.admit()


async def test_a_renewed_slot_outlives_its_first_lifetime_and_only_its_own_team_renews_it(
    world: World,
) -> None:
    await put(world, "key", "key_1", concurrent=1)
    running = await world.admit()  # a long stream: its router renews the slot while it runs
    world.clock.now += timedelta(seconds=SLOT_SECONDS * 2 / 3)
    assert await world.limits.renew([("team_a", running), ("team_a", "slot_unknown")]) == 1
    assert await world.limits.renew([("team_b", running)]) == 0  # not team_b's slot
    world.clock.now += timedelta(seconds=SLOT_SECONDS * 2 / 3)  # past its first lifetime
    with pytest.raises(RateLimited):
        await world.admit()
    world.clock.now += timedelta(seconds=SLOT_SECONDS)  # its router died: no more renewals
    assert await world.limits.renew([("team_a", running)]) == 0  # an expired slot stays so
    await world.admit()
    with pytest.raises(InvalidArgument):
        await world.limits.renew([("team_a", f"slot_{n}") for n in range(1001)])


async def test_an_unlimited_request_is_not_counted(world: World) -> None:
    assert await world.limits.admit("team_a", "prj_1", "key_1", "slot_x", 10) is None
    await put(world, "key", "key_2", rpm=1)
    assert await world.limits.admit("team_a", "prj_1", "key_1", "slot_y", 10) is None


async def test_status_names_the_tightest_limits(world: World) -> None:
    await put(world, "team", "team_a", rpm=100, tpm=1000)
    await put(world, "key", "key_1", rpm=3)
    found = await world.limits.admit("team_a", "prj_1", "key_1", "slot_1", 100)
    assert found is not None
    assert (found.limit_requests, found.remaining_requests) == (3, 2)
    assert (found.limit_tokens, found.remaining_tokens) == (1000, 900)
    assert found.reset_requests_ms == 50_000


async def test_concurrent_admissions_never_pass_the_limit(world: World) -> None:
    await put(world, "key", "key_1", rpm=5)
    results = await asyncio.gather(*(world.admit() for _ in range(20)), return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 5
    assert all(isinstance(r, (str, RateLimited)) for r in results)


async def test_set_replace_delete_with_events_and_bad_input(world: World) -> None:
    await put(world, "key", "key_1", rpm=2)
    found, created = await world.limits.put(
        "team_a",
        "key",
        "key_1",
        requests_per_minute=None,
        tokens_per_minute=500,
        concurrent_requests=None,
        actor_id="user_1",
    )
    assert not created
    assert (found.requests_per_minute, found.tokens_per_minute) == (0, 500)
    with pytest.raises(InvalidArgument):
        await put(world, "key", "key_1")
    with pytest.raises(InvalidArgument):
        await put(world, "key", "key_1", rpm=0)
    with pytest.raises(InvalidArgument):
        await put(world, "galaxy", "key_1", rpm=1)
    with pytest.raises(RateLimitNotFound):
        await put(world, "team", "team_b", rpm=1)
    assert [limit.tokens_per_minute for limit in await world.limits.list("team_a")] == [500]
    await world.limits.delete("team_a", "key", "key_1", "user_1")
    with pytest.raises(RateLimitNotFound):
        await world.limits.delete("team_a", "key", "key_1", "user_1")
    assert await world.limits.list("team_a") == []
    assert world.types() == ["rate-limit-created", "rate-limit-updated", "rate-limit-deleted"]


async def test_finishes_and_admissions_running_together_never_deadlock(world: World) -> None:
    await put(world, "team", "team_a", tpm=1_000_000, concurrent=100)
    await put(world, "key", "key_1", tpm=1_000_000, rpm=1000)
    first = [await world.admit(tokens=100) for _ in range(10)]
    await asyncio.gather(
        *(world.limits.finish("team_a", slot, 5) for slot in first),
        *(world.admit(tokens=100) for _ in range(10)),
    )
    found = await world.limits.admit("team_a", "prj_1", "key_1", "slot_last", 0)
    assert found is not None
    # 10 finished at 5 tokens, 10 still counted at their estimate of 100.
    assert found.remaining_tokens == 1_000_000 - 10 * 5 - 10 * 100
