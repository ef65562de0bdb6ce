"""Generations recorded and charged through the ledger, against a real database (SQLite;
PostgreSQL when configured): idempotency, batches, concurrency, values the database refuses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_billing.generations.repository import GenerationRepository
from tollgate_billing.generations.service import Generation
from tollgate_billing.ledger.repository import LedgerRepository
from tollgate_billing.ledger.service import CreditsService, LedgerGenerationStore
from tollgate_billing.models import generations, ledger_entries, metadata
from tollgate_common.inbox import Stored
from tollgate_common.outbox import Fact
from tollgate_common.usage_record import usage_record

NEW, DUPLICATE, REJECTED = Stored.NEW, Stored.DUPLICATE, Stored.REJECTED


def _generation(
    generation_id: str = "gen_1", team_id: str = "team_a", **changes: object
) -> Generation:
    fact = UsageRecorded(
        generation_id=generation_id,
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
        cost="0.0000123",
        market_cost="0.0000123",
        price_version="2026-01-01",
        ttft_ms=120,
        latency_ms=900,
    )
    return usage_record(fact, datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC), **changes)


class _Facts:
    def put(self, fact: Fact) -> None:
        pass


def _store(engine: AsyncEngine) -> LedgerGenerationStore:
    credits = CreditsService(LedgerRepository(engine), _Facts())
    return LedgerGenerationStore(credits, GenerationRepository(engine))


async def _count(engine: AsyncEngine) -> tuple[int, int]:
    """Generation rows, and usage entries in the ledger."""
    usage = ledger_entries.c.kind == "usage"
    async with engine.connect() as conn:
        rows = (await conn.execute(select(func.count()).select_from(generations))).scalar_one()
        debits = (
            await conn.execute(select(func.count()).select_from(ledger_entries).where(usage))
        ).scalar_one()
    return rows, debits


async def test_a_generation_round_trips_exactly(engine: AsyncEngine) -> None:
    repository = _store(engine)
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
    repository = _store(engine)
    assert await repository.record(_generation())
    assert not await repository.record(_generation(cost=Decimal(5), team_id="team_b"))
    assert await _count(engine) == (1, 1)
    stored = await repository.get("team_a", "gen_1")
    assert stored is not None
    assert stored.cost == Decimal("0.0000123")


async def test_another_teams_generation_is_invisible(engine: AsyncEngine) -> None:
    repository = _store(engine)
    await repository.record(_generation())
    assert await repository.get("team_b", "gen_1") is None
    assert await repository.get("team_a", "gen_unknown") is None


async def test_the_migration_matches_the_models(engine: AsyncEngine) -> None:
    """But for the columns the previous release wrote, which the migrations keep for its pods
    (a later one drops them)."""

    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    fields = UsageRecorded.DESCRIPTOR.fields_by_name
    for kind, _, table, column in differences:  # type: ignore[misc]
        assert (kind, table, column.name in fields) == ("remove_column", "generations", True)


async def test_concurrent_deliveries_record_once(engine: AsyncEngine) -> None:
    repository = _store(engine)
    results = await asyncio.gather(*(repository.record(_generation()) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    assert await _count(engine) == (1, 1)


async def test_a_batch_stores_each_generation_once(engine: AsyncEngine) -> None:
    repository = _store(engine)
    assert await repository.record(_generation("gen_0"))
    batch = [
        _generation("gen_1"),
        _generation("gen_0", cost=Decimal(7)),  # recorded before
        _generation("gen_2"),
        _generation("gen_1", cost=Decimal(9)),  # a repeat within the batch
    ]
    assert await repository.record_many(batch) == [NEW, DUPLICATE, NEW, DUPLICATE]
    assert await _count(engine) == (3, 3)
    for generation_id in ("gen_0", "gen_1"):
        stored = await repository.get("team_a", generation_id)
        assert stored is not None
        assert stored.cost == Decimal("0.0000123")
    assert await repository.get("team_a", "gen_2") == _generation("gen_2")
    # The same batch redelivered, in another order: nothing changes.
    assert await repository.record_many(batch[::-1]) == [DUPLICATE] * 4
    assert await _count(engine) == (3, 3)


async def test_a_large_batch_is_stored_whole(engine: AsyncEngine) -> None:
    repository = _store(engine)
    half = [_generation(f"gen_{index:04d}") for index in range(0, 1200, 2)]
    assert await repository.record_many(half) == [NEW] * 600
    everything = [_generation(f"gen_{index:04d}") for index in range(1200)]
    results = await repository.record_many(everything)
    assert results == [DUPLICATE if index % 2 == 0 else NEW for index in range(1200)]
    assert await _count(engine) == (1200, 1200)


async def test_concurrent_batches_store_each_generation_once(engine: AsyncEngine) -> None:
    repository = _store(engine)
    batches = [[_generation(f"gen_{(start + i) % 12}") for i in range(8)] for start in range(6)]
    results = await asyncio.gather(*(repository.record_many(batch) for batch in batches))
    stored = sorted(
        generation.generation_id
        for batch, batch_results in zip(batches, results, strict=True)
        for generation, result in zip(batch, batch_results, strict=True)
        if result is NEW
    )
    assert stored == sorted(f"gen_{index}" for index in range(12))
    assert await _count(engine) == (12, 12)


async def test_values_the_database_refuses_are_isolated(engine: AsyncEngine) -> None:
    # The service rejects a NUL before it gets here; the repository must cope regardless.
    # PostgreSQL refuses a NUL character in text; SQLite stores it.
    refused = engine.dialect.name == "postgresql"
    repository = _store(engine)
    bad = _generation("gen_bad", model="nul\x00model")
    batch = [_generation("gen_1"), bad, _generation("gen_2"), _generation("gen_1")]
    first = REJECTED if refused else NEW
    assert await repository.record_many(batch) == [NEW, first, NEW, DUPLICATE]
    assert await _count(engine) == ((2, 2) if refused else (3, 3))
    again = REJECTED if refused else DUPLICATE
    assert await repository.record_many(batch) == [DUPLICATE, again, DUPLICATE, DUPLICATE]
