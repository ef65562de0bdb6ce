"""The rules of ``Idempotency-Key`` on a real (SQLite) router database: one claim per team and
key, a kept answer replayed, another body refused, a running first request waited for and then
reported in use, a released or expired key claimed again, the sweeper deleting expired keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common.db import create_engine, migrate_async
from tollgate_common.errors import InvalidArgument
from tollgate_router.app import MIGRATIONS
from tollgate_router.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from tollgate_router.idempotency.repository import IdempotencyRepository
from tollgate_router.idempotency.service import Claim, Idempotency, IdempotencyKey, Replay
from tollgate_router.models import metadata


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'router.db'}"
    await migrate_async(url, MIGRATIONS)
    engine = create_engine(url)
    yield engine
    await engine.dispose()


def keys(engine: AsyncEngine, clock: Clock, *, wait: float = 0.3) -> Idempotency:
    return Idempotency(
        IdempotencyRepository(engine), ttl=60, wait=wait, running=30, poll=0.01, clock=clock
    )


def key(body: str = "hash-a", name: str = "retry-1", team: str = "team-1") -> IdempotencyKey:
    return IdempotencyKey.of(team, name, "generate", body)


async def claimed(idempotency: Idempotency, k: IdempotencyKey) -> Claim:
    outcome = await idempotency.claim(k)
    assert isinstance(outcome, Claim)
    return outcome


async def test_the_migrations_create_exactly_the_models(engine: AsyncEngine) -> None:
    def diff(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_a_kept_answer_is_replayed_for_the_same_body(engine: AsyncEngine) -> None:
    idempotency = keys(engine, Clock())
    claim = await claimed(idempotency, key())
    await idempotency.keep(claim, b"the answer")
    assert await idempotency.claim(key()) == Replay(b"the answer")


async def test_another_body_under_the_same_key_is_refused(engine: AsyncEngine) -> None:
    idempotency = keys(engine, Clock())
    await idempotency.keep(await claimed(idempotency, key()), b"the answer")
    with pytest.raises(IdempotencyKeyReused):
        await idempotency.claim(key(body="hash-b"))
    # The same key on another endpoint is another request too.
    with pytest.raises(IdempotencyKeyReused):
        await idempotency.claim(IdempotencyKey.of("team-1", "retry-1", "embed", "hash-a"))


async def test_keys_are_per_team(engine: AsyncEngine) -> None:
    idempotency = keys(engine, Clock())
    await idempotency.keep(await claimed(idempotency, key()), b"team 1's answer")
    assert isinstance(await idempotency.claim(key(team="team-2")), Claim)


async def test_a_repeat_waits_for_the_running_first_request(engine: AsyncEngine) -> None:
    idempotency = keys(engine, Clock(), wait=30)
    claim = await claimed(idempotency, key())
    repeat = asyncio.create_task(idempotency.claim(key()))
    await asyncio.sleep(0.05)
    assert not repeat.done()
    await idempotency.keep(claim, b"late answer")
    assert await repeat == Replay(b"late answer")


async def test_a_repeat_past_the_wait_is_told_the_key_is_in_use(engine: AsyncEngine) -> None:
    idempotency = keys(engine, Clock(), wait=0.05)
    await claimed(idempotency, key())
    with pytest.raises(IdempotencyKeyInUse) as refused:
        await idempotency.claim(key())
    assert refused.value.reason == "IDEMPOTENCY_KEY_IN_USE"


async def test_a_failed_first_request_frees_its_key(engine: AsyncEngine) -> None:
    idempotency = keys(engine, Clock(), wait=30)
    claim = await claimed(idempotency, key())

    async def failing() -> bytes:
        raise InvalidArgument("no such model")

    with pytest.raises(InvalidArgument):
        await idempotency.run(claim, failing())
    assert isinstance(await idempotency.claim(key()), Claim)


async def test_run_keeps_the_answer(engine: AsyncEngine) -> None:
    idempotency = keys(engine, Clock())

    async def answer() -> bytes:
        return b"whole answer"

    assert await idempotency.run(await claimed(idempotency, key()), answer()) == b"whole answer"
    assert await idempotency.claim(key()) == Replay(b"whole answer")


class Refusing(IdempotencyRepository):
    """A database that takes claims but fails to keep an answer."""

    async def keep(self, *args: object) -> None:
        raise OSError("the database went away")


async def test_an_answer_the_database_cannot_keep_still_goes_out(engine: AsyncEngine) -> None:
    idempotency = Idempotency(Refusing(engine), ttl=60, wait=30, running=30, poll=0.01)

    async def answer() -> bytes:
        return b"served and charged"

    claim = await claimed(idempotency, key())
    assert await idempotency.run(claim, answer()) == b"served and charged"
    assert isinstance(await idempotency.claim(key()), Claim)  # released: a retry runs again


async def test_an_expired_answer_is_run_again_and_swept(engine: AsyncEngine) -> None:
    clock = Clock()
    idempotency = keys(engine, clock)
    await idempotency.keep(await claimed(idempotency, key()), b"old")
    await idempotency.keep(await claimed(idempotency, key(name="other")), b"old too")
    clock.now += timedelta(seconds=61)
    assert isinstance(await idempotency.claim(key(body="hash-b")), Claim)
    assert await idempotency.sweep() == 1  # "other"; "retry-1" was claimed again


async def test_an_abandoned_running_claim_is_taken_over(engine: AsyncEngine) -> None:
    clock = Clock()
    idempotency = keys(engine, clock, wait=0)
    first = await claimed(idempotency, key())
    clock.now += timedelta(seconds=31)  # its router died: the running lease ran out
    second = await claimed(idempotency, key())
    await idempotency.keep(first, b"from the dead")  # not its claim any more: nothing kept
    await idempotency.keep(second, b"from the living")
    assert await idempotency.claim(key()) == Replay(b"from the living")


@pytest.mark.parametrize("bad", ["", "a b", "x" * 256, "é", "tab\there"])
def test_a_malformed_key_is_refused(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        IdempotencyKey.of("team-1", bad, "generate", "hash")
