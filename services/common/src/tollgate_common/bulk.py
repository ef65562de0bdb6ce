"""A batch of rows as one statement on PostgreSQL: one array per column, turned back into rows
by ``unnest``.

SQLAlchemy's executemany binds every value of every row through its type (a few µs each); an
array per column is one parameter per column whatever the batch size, a single prepared
statement for every batch (asyncpg caches it by its text), and one round trip. Each value
still goes through its column type's bind processor (Money's Decimal check, UtcDateTime's
conversion to UTC), so what is stored is what :func:`sqlalchemy.insert` would store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, TextClause, insert, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

Row = Mapping[str, object]


def column_list(table: Table, names: Sequence[str], dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    return ", ".join(quote(table.c[name].name) for name in names)


def unnest_select(table: Table, names: Sequence[str], dialect: Dialect) -> str:
    """``SELECT * FROM unnest(CAST(:c_a AS type[]), …) AS batch (a, …)``: rows made of one
    array parameter per column (``c_<name>``), their columns named as in ``table`` (the casts
    tell PostgreSQL each array's type, which it cannot infer from ``unnest``).

    The casts name the types without their length or precision (``VARCHAR``, not
    ``VARCHAR(100)``): an explicit cast to ``VARCHAR(100)`` cuts a longer string silently,
    whereas storing it into the column refuses it, as a plain INSERT would."""
    casts = ", ".join(f"CAST(:c_{name} AS {_base_type(table, name, dialect)}[])" for name in names)
    # Names and types come from the table's metadata, values only ever from bound parameters.
    return f"SELECT * FROM unnest({casts}) AS batch ({column_list(table, names, dialect)})"  # noqa: S608


def _base_type(table: Table, name: str, dialect: Dialect) -> str:
    """The column's SQL type without its modifiers: ``VARCHAR(100)`` → ``VARCHAR``."""
    return re.sub(r"\s*\([^)]*\)", "", table.c[name].type.compile(dialect=dialect))


class BulkInsert:
    """Inserts rows (each with every column of ``table``) in the caller's transaction: one
    ``INSERT … SELECT FROM unnest(…)`` on PostgreSQL, an executemany elsewhere. Built once
    per table and dialect: compiling the column types is what costs."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self._table = table
        self._names = [column.name for column in table.columns]
        self._statement: TextClause | None = None
        self._processors: list[Callable[[Any], Any] | None] = []
        if dialect.name == "postgresql":
            target = dialect.identifier_preparer.format_table(table)
            self._statement = text(  # names from the table's metadata; values bound
                f"INSERT INTO {target} ({column_list(table, self._names, dialect)}) "
                f"{unnest_select(table, self._names, dialect)}"
            )
            self._processors = [table.c[n].type.bind_processor(dialect) for n in self._names]

    async def __call__(self, conn: AsyncConnection, rows: Sequence[Row]) -> None:
        if not rows:
            return
        if self._statement is None:
            await conn.execute(insert(self._table), list(rows))
            return
        arrays: dict[str, list[Any]] = {}
        for name, process in zip(self._names, self._processors, strict=True):
            values = [row[name] for row in rows]
            arrays[f"c_{name}"] = values if process is None else [process(v) for v in values]
        await conn.execute(self._statement, arrays)
