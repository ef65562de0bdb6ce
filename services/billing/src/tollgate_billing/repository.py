"""Generation records in SQL: lookups and the spend report's reads (they are written, and
charged, by :mod:`tollgate_billing.ledger_repository`)."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common.inbox import Row

from tollgate_billing.models import generations
from tollgate_billing.report import ReportQuery, UsageLine
from tollgate_billing.service import GENERATION_FIELDS, Generation

USAGE_CONSUMER = "billing-usage"


class GenerationRepository:
    """Reads a team's generations."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def usage_lines(self, query: ReportQuery) -> list[UsageLine]:
        """The generations a spend report covers (by the (team, created_at) index)."""
        g = generations.c
        statement = select(*(g[name] for name in _LINE_FIELDS)).where(
            g.team_id == query.team_id, g.created_at >= query.since, g.created_at < query.until
        )
        for column, value in (
            (g.model, query.model),
            (g.provider, query.provider),
            (g.credential_type, query.credential_type),
            (g.end_user, query.user),
        ):
            if value:
                statement = statement.where(column == value)
        async with self._engine.connect() as conn:
            result = await conn.stream(statement.execution_options(yield_per=1000))
            return [UsageLine(*row) async for row in result]

    async def get(self, team_id: str, generation_id: str) -> Generation | None:
        query = select(generations).where(
            generations.c.id == generation_id, generations.c.team_id == team_id
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _generation(row)


_LINE_FIELDS = tuple(f.name for f in fields(UsageLine))


def generation_row(generation: Generation) -> Row:
    # Not dataclasses.asdict: that deep-copies every value, a cost paid per row.
    return {name: getattr(generation, name) for name in GENERATION_FIELDS}


def _generation(row: RowMapping) -> Generation:
    values = {name: row[name] for name in GENERATION_FIELDS}
    values["tags"] = tuple(values["tags"] or ())
    return Generation(**values)
