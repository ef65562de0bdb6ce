"""GenerationRepository against a real database (SQLite; PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_billing.models import generations, inbox, metadata
from tollgate_billing.repository import GenerationRepository
from tollgate_billing.service import Generation


def _generation(
    generation_id: str = "gen_1", team_id: str = "team_a", **changes: object
) -> Generation:
    generation = Generation(
        id=generation_id,
        team_id=team_id,
        project_id="prj_1",
        key_id="key_1",
        user_id="user_1",
        model="openai/gpt-4o",
        provider="openai",
        provider_model_id="gpt-4o-2024-08-06",
        credential_type="system",
        streamed=True,
        finish_reason="stop",
        status="success",
        input_tokens=100,
        output_tokens=50,
        cached_input_tokens=10,
        cache_write_tokens=5,
        reasoning_tokens=7,
        cost=Decimal("0.0000123"),
        market_cost=Decimal("0.0000123"),
        price_version="2026-01-01",
        ttft_ms=120,
        latency_ms=900,
        created_at=datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC),
    )
    return replace(generation, **changes)  # type: ignore[arg-type]


async def _count(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(func.count()).select_from(generations))).scalar_one()
        claims = (await conn.execute(select(func.count()).select_from(inbox))).scalar_one()
    return rows, claims


async def test_a_generation_round_trips_exactly(engine: AsyncEngine) -> None:
    repository = GenerationRepository(engine)
    generation = _generation(
        cost=Decimal("12345.000000000000000001"), market_cost=Decimal("0.000000000000000001")
    )
    assert await repository.record(generation)
    stored = await repository.get("team_a", "gen_1")
    assert stored == generation
    assert stored is not None
    assert isinstance(stored.cost, Decimal)
    assert stored.created_at.tzinfo is not None


async def test_a_repeated_generation_changes_nothing(engine: AsyncEngine) -> None:
    repository = GenerationRepository(engine)
    assert await repository.record(_generation())
    assert not await repository.record(_generation(cost=Decimal(5), team_id="team_b"))
    assert await _count(engine) == (1, 1)
    stored = await repository.get("team_a", "gen_1")
    assert stored is not None
    assert stored.cost == Decimal("0.0000123")


async def test_another_teams_generation_is_invisible(engine: AsyncEngine) -> None:
    repository = GenerationRepository(engine)
    await repository.record(_generation())
    assert await repository.get("team_b", "gen_1") is None
    assert await repository.get("team_a", "gen_unknown") is None


async def test_the_migration_matches_the_models(engine: AsyncEngine) -> None:
    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_concurrent_deliveries_record_once(engine: AsyncEngine) -> None:
    repository = GenerationRepository(engine)
    results = await asyncio.gather(*(repository.record(_generation()) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    assert await _count(engine) == (1, 1)
