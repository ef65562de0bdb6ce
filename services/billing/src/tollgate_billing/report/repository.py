"""The spend report's reads in SQL: the generations of a team in a date range."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tollgate_billing.models import GENERATION_ROWS, generations
from tollgate_billing.report.service import ReportQuery, UsageLine


class ReportRepository:
    """Reads the generations a spend report sums."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def usage_lines(self, query: ReportQuery) -> list[UsageLine]:
        """The generations a spend report covers (by the (team, created_at) index)."""
        g = generations.c
        columns = [g[name] for name in _LINE_COLUMNS]
        statement = select(*columns, g.usage, g.id).where(
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
            rows = [row async for part in result.partitions() for row in part]
            stored = await GENERATION_ROWS.completed(conn, [row._mapping for row in rows])
        count = len(_LINE_COLUMNS)
        return [
            UsageLine(GENERATION_ROWS.fact(whole), *row[:count])
            for row, whole in zip(rows, stored, strict=True)
        ]


# The columns a line takes, in its order (after the fact).
_LINE_COLUMNS = tuple(f.name for f in fields(UsageLine))[1:]
