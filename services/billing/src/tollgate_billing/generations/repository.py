"""Generation records in SQL: lookups by id (they are written, and charged, by
:mod:`tollgate_billing.ledger.repository`; the spend report reads them through
:mod:`tollgate_billing.report.repository`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tollgate_billing.generations.service import Generation
from tollgate_billing.models import GENERATION_ROWS, generations


class GenerationRepository:
    """Reads a team's generations."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, team_id: str, generation_id: str) -> Generation | None:
        query = select(generations).where(
            generations.c.id == generation_id, generations.c.team_id == team_id
        )
        async with self._engine.connect() as conn:
            found = (await conn.execute(query)).mappings().all()
            rows = await GENERATION_ROWS.completed(conn, found)
        return GENERATION_ROWS.record(rows[0]) if rows else None
