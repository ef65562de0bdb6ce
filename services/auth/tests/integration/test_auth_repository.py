"""The repository and the bootstrap against a real database (SQLite; PostgreSQL when set)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_auth.app import MIGRATIONS_DIR
from tollgate_auth.domain import BootstrapOwner, Role
from tollgate_auth.keys.cache import KeyCache, LastUsedTracker
from tollgate_auth.keys.hashing import KeyHasher
from tollgate_auth.keys.repository import AuthRepository
from tollgate_auth.keys.service import AuthService, BootstrapOutcome
from tollgate_auth.models import api_keys, memberships, metadata, teams, users
from tollgate_common.db import create_engine, migrate_async
from tollgate_common.testing import scratch_database

PEPPER = b"integration-pepper"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def _bootstrap_as_of_0001(engine: AsyncEngine, key_hash: str) -> None:
    """What the first start wrote when the schema was revision 0001 (its columns only)."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO teams (id, slug, name, created_at) VALUES ('team_1', 'default', 'Default', :t)"
            ),
            {"t": now},
        )
        await conn.execute(
            text(
                "INSERT INTO users (id, email, created_at) VALUES ('user_1', 'admin@localhost', :t)"
            ),
            {"t": now},
        )
        await conn.execute(
            text(
                "INSERT INTO memberships (team_id, user_id, role, created_at)"
                " VALUES ('team_1', 'user_1', 'owner', :t)"
            ),
            {"t": now},
        )
        await conn.execute(
            text(
                "INSERT INTO api_keys (id, team_id, user_id, name, prefix, key_hash, created_at)"
                " VALUES ('key_1', 'team_1', 'user_1', 'bootstrap', 'tg_old', :h, :t)"
            ),
            {"h": key_hash, "t": now},
        )


def _owner(key_hash: str) -> BootstrapOwner:
    return BootstrapOwner(
        team_slug="default",
        team_name="Default",
        email="admin@localhost",
        key_name="bootstrap",
        prefix=key_hash[:12],
        key_hash=key_hash,
    )


async def _count(engine: AsyncEngine, table: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


def _service(engine: AsyncEngine) -> AuthService:
    return AuthService(AuthRepository(engine), KeyHasher(PEPPER), KeyCache(), LastUsedTracker())


async def test_the_migration_creates_exactly_the_models(engine: AsyncEngine) -> None:
    def diff(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_bootstrap_creates_the_default_team_once(engine: AsyncEngine) -> None:
    repository = AuthRepository(engine)
    assert not await repository.any_api_key_exists()
    assert await repository.create_bootstrap_owner(_owner("a" * 64))
    assert not await repository.create_bootstrap_owner(_owner("b" * 64))
    for table in (teams, users, memberships, api_keys):
        assert await _count(engine, table) == 1

    record = await repository.find_key_by_hash("a" * 64)
    assert record is not None
    principal = record.principal
    assert principal.team_slug == "default"
    assert principal.role is Role.OWNER
    assert principal.key_id.startswith("key_")
    assert principal.project_id == ""
    assert record.revoked_at is None
    assert record.expires_at is None
    assert await repository.find_key_by_hash("b" * 64) is None


async def test_concurrent_bootstraps_create_one_key(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(
                AuthRepository(engine).create_bootstrap_owner(_owner(f"{i}" * 64))
                for i, engine in enumerate(engines)
            )
        )
        assert sorted(results) == [False, False, False, True]
        for table in (teams, users, memberships, api_keys):
            assert await _count(engines[0], table) == 1
    finally:
        for engine in engines:
            await engine.dispose()


async def test_processes_sharing_a_data_dir_agree_on_the_key(
    database_url: str, tmp_path: Path
) -> None:
    engines = [create_engine(database_url) for _ in range(3)]
    key_file = tmp_path / "bootstrap-key"
    try:
        services = [_service(engine) for engine in engines]
        outcomes = await asyncio.gather(*(s.bootstrap(None, key_file) for s in services))
        assert outcomes.count(BootstrapOutcome.CREATED_KEY_FILE) == 1
        key = key_file.read_text().strip()
        for service in services:
            assert (await service.authenticate_api_key(key)).team_slug == "default"
        assert await services[0].bootstrap(None, key_file) is BootstrapOutcome.ALREADY_DONE
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_loser_with_its_own_data_dir_removes_its_useless_key_file(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = AuthRepository(engine)
    assert await repository.create_bootstrap_owner(_owner("c" * 64))

    async def no_key_yet() -> bool:  # as if the winner committed right after this check
        return False

    monkeypatch.setattr(repository, "any_api_key_exists", no_key_yet)
    service = AuthService(repository, KeyHasher(PEPPER), KeyCache(), LastUsedTracker())
    own_key_file = tmp_path / "other-data-dir" / "bootstrap-key"
    assert await service.bootstrap(None, own_key_file) is BootstrapOutcome.DONE_ELSEWHERE
    assert not own_key_file.exists()


async def test_revoke(engine: AsyncEngine) -> None:
    repository = AuthRepository(engine)
    await repository.create_bootstrap_owner(_owner("d" * 64))
    record = await repository.find_key_by_hash("d" * 64)
    assert record is not None
    key_id = record.principal.key_id
    assert await repository.revoke_key(key_id)
    assert not await repository.revoke_key(key_id)
    assert not await repository.revoke_key("key_unknown")
    revoked = await repository.find_key_by_hash("d" * 64)
    assert revoked is not None
    assert revoked.revoked_at is not None
    assert revoked.revoked_at.tzinfo is not None
    assert datetime.now(UTC) - revoked.revoked_at < timedelta(minutes=1)


async def test_last_used_never_moves_backwards(engine: AsyncEngine) -> None:
    repository = AuthRepository(engine)
    await repository.create_bootstrap_owner(_owner("e" * 64))
    record = await repository.find_key_by_hash("e" * 64)
    assert record is not None
    key_id = record.principal.key_id
    later = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    await repository.record_last_used({key_id: later, "key_unknown": later})
    assert await repository.key_last_used(key_id) == later
    await repository.record_last_used({key_id: later - timedelta(hours=1)})
    assert await repository.key_last_used(key_id) == later


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_migration_0002_keeps_the_bootstrap_owner_and_sets_the_default_team(
    kind: str, tmp_path: Path
) -> None:
    """A database bootstrapped by the walking skeleton (revision 0001) upgrades in place."""
    async with scratch_database(kind, tmp_path, "auth_upgrade") as url:
        await migrate_async(url, MIGRATIONS_DIR, "0001")
        engine = create_engine(url)
        try:
            hasher = KeyHasher(PEPPER)
            repository = AuthRepository(engine)
            await _bootstrap_as_of_0001(engine, hasher.hash("old-key"))
            await migrate_async(url, MIGRATIONS_DIR)
            record = await repository.find_key_by_hash(hasher.hash("old-key"))
            assert record is not None and record.principal.role is Role.OWNER
            # 0006: the bootstrap user is the operator, its team the bootstrap team.
            assert record.principal.operator
            async with engine.connect() as conn:
                default_team = (
                    await conn.execute(
                        select(users.c.default_team_id).where(users.c.email == "admin@localhost")
                    )
                ).scalar_one()
                bootstrap_team = (
                    await conn.execute(select(teams.c.id).where(teams.c.bootstrap))
                ).scalar_one()
            assert default_team == record.principal.team_id == bootstrap_team
        finally:
            await engine.dispose()
