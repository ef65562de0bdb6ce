"""Operators, the bootstrap identity and the free tier per user against a real database (SQLite;
PostgreSQL when set): the rules that must hold against concurrent writers live in SQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_auth.domain import Role
from tollgate_auth.errors import BootstrapOperator, BootstrapTeam, LastOperator, UserNotFound
from tollgate_auth.keys.cache import KeyCache, LastUsedTracker
from tollgate_auth.keys.hashing import KeyHasher
from tollgate_auth.keys.repository import AuthRepository
from tollgate_auth.keys.service import AuthService, BootstrapOutcome
from tollgate_auth.models import users
from tollgate_auth.operators.repository import OperatorRepository
from tollgate_auth.tenancy.repository import TenancyRepository
from tollgate_common.db import create_engine

PEPPER = b"integration-pepper"
NOW = datetime(2026, 12, 6, tzinfo=UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


def _service(engine: AsyncEngine) -> AuthService:
    return AuthService(AuthRepository(engine), KeyHasher(PEPPER), KeyCache(), LastUsedTracker())


async def _user(engine: AsyncEngine, user_id: str, *, operator: bool = False) -> str:
    async with engine.begin() as conn:
        await conn.execute(
            insert(users).values(
                id=user_id, email=f"{user_id}@example.com", created_at=NOW, operator=operator
            )
        )
    return user_id


async def test_the_last_operator_keeps_the_privilege(engine: AsyncEngine) -> None:
    operators = OperatorRepository(engine)
    only = await _user(engine, "user_only", operator=True)
    with pytest.raises(LastOperator):
        await operators.set_operator(only, False)
    other = await _user(engine, "user_other")
    assert (await operators.set_operator(other, True))[1] is True
    assert (await operators.set_operator(other, True))[1] is False  # a repeat changes nothing
    assert (await operators.set_operator(only, False))[1] is True
    assert [o.user_id for o in await operators.operators()] == [other]
    with pytest.raises(UserNotFound):
        await operators.set_operator("user_nobody", True)


async def test_two_demotions_at_once_leave_one_operator(engine: AsyncEngine) -> None:
    operators = OperatorRepository(engine)
    first = await _user(engine, "user_a", operator=True)
    second = await _user(engine, "user_b", operator=True)
    outcomes = await asyncio.gather(
        operators.set_operator(first, False),
        operators.set_operator(second, False),
        return_exceptions=True,
    )
    assert sum(isinstance(outcome, LastOperator) for outcome in outcomes) == 1
    assert len(await operators.operators()) == 1


async def test_the_bootstrap_identity_stays_whole(engine: AsyncEngine, tmp_path: Path) -> None:
    service = _service(engine)
    await service.bootstrap("tg_first-bootstrap-key", tmp_path / "bootstrap-key")
    principal = await service.authenticate_api_key("tg_first-bootstrap-key")
    assert principal.operator and principal.role is Role.OWNER

    operators = OperatorRepository(engine)
    await operators.set_operator(await _user(engine, "user_second", operator=False), True)
    with pytest.raises(BootstrapOperator):
        await operators.set_operator(principal.user_id, False)

    tenancy = TenancyRepository(engine)
    with pytest.raises(BootstrapTeam):
        await tenancy.delete_team(principal.team_id)
    other = await tenancy.add_member(principal.team_id, "owner2@example.com", Role.OWNER, NOW)
    with pytest.raises(BootstrapTeam):
        await tenancy.set_role(principal.team_id, principal.user_id, Role.MEMBER)
    with pytest.raises(BootstrapTeam):
        await tenancy.remove_member(principal.team_id, principal.user_id, NOW)
    # Other owners of the bootstrap team are ordinary members of it.
    await tenancy.set_role(principal.team_id, other.user_id, Role.MEMBER)
    await service.authenticate_api_key("tg_first-bootstrap-key")


async def test_a_configured_key_recovers_the_operators_access(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    service = _service(engine)
    key_file = tmp_path / "bootstrap-key"
    await service.bootstrap("tg_lost-bootstrap-key", key_file)
    lost = await service.authenticate_api_key("tg_lost-bootstrap-key")
    await service.revoke_key(lost.key_id)

    # A restart with a new TOLLGATE_BOOTSTRAP_API_KEY: the key now acts as the operator.
    outcome = await service.bootstrap("tg_new-bootstrap-key", key_file)
    assert outcome is BootstrapOutcome.RECOVERED_FROM_ENV
    found = await service.authenticate_api_key("tg_new-bootstrap-key")
    assert (found.team_id, found.user_id, found.role) == (lost.team_id, lost.user_id, Role.OWNER)
    assert found.operator
    # The next restart with the same key changes nothing.
    assert (
        await service.bootstrap("tg_new-bootstrap-key", key_file) is BootstrapOutcome.ALREADY_DONE
    )
    assert not key_file.exists()


async def test_a_user_collects_one_free_tier_even_creating_teams_at_once(
    engine: AsyncEngine,
) -> None:
    tenancy = TenancyRepository(engine)
    user = await _user(engine, "user_eager")
    teams = await asyncio.gather(
        *(tenancy.create_team(f"eager-{i}", "Eager", user, NOW, 1) for i in range(5))
    )
    assert sorted(team.free_tier for team in teams) == [False] * 4 + [True]
    assert (await tenancy.create_team("eager-late", "Late", user, NOW, 1)).free_tier is False

    operator = await _user(engine, "user_op", operator=True)
    for i in range(3):
        assert (await tenancy.create_team(f"op-{i}", "Op", operator, NOW, 1)).free_tier
    nobody = await _user(engine, "user_none")
    assert (await tenancy.create_team("none-0", "None", nobody, NOW, 0)).free_tier is False
