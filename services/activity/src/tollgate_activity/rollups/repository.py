"""Rollup rows in SQL: adding a batch's increments inside the caller's transaction (the request
log's, see :class:`tollgate_activity.request_log.repository.RequestLogRepository`), and reading
a query's rows.

PostgreSQL adds a whole batch in one ``INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE``
(NUMERIC addition is exact; one array per column, see :mod:`tollgate_common.bulk`). SQLite
has no exact decimals, so there each row is read, added to in Python with Decimal and written
back (SQLite runs one writer at a time, so nothing can change in between)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    RowMapping,
    TextClause,
    and_,
    bindparam,
    case,
    cast,
    extract,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tollgate_common.bulk import column_list, unnest_select

from tollgate_activity.models import request_rollup
from tollgate_activity.rollups.buckets import (
    BUCKET_COLUMNS,
    P50,
    P95,
    TTFT_EDGES_MS,
    RollupDelta,
    RollupKey,
)
from tollgate_activity.rollups.service import Metric, ObservabilityQuery, Series

# Keys per tuple-IN list: far below every database's limit on bound parameters.
KEY_CHUNK = 200

_KEY_COLUMNS = ("team_id", "scope", "resolution", "bucket_start", "model")
_SUM_COLUMNS = (
    "requests",
    "errors",
    "ttft_count",
    "ttft_sum_ms",
    "input_tokens",
    "output_tokens",
    "spend",
    *BUCKET_COLUMNS,
)

_c = request_rollup.c
_UPDATE = (
    update(request_rollup)
    .where(and_(*(_c[name] == bindparam(f"k_{name}") for name in _KEY_COLUMNS)))
    .values({name: bindparam(f"v_{name}") for name in _SUM_COLUMNS})
)


def _key_values(key: RollupKey) -> tuple[Any, ...]:
    return (key.team_id, key.scope, key.resolution, key.bucket_start, key.model)


def _sums(delta: RollupDelta) -> dict[str, Any]:
    sums: dict[str, Any] = {
        "requests": delta.requests,
        "errors": delta.errors,
        "ttft_count": delta.ttft_count,
        "ttft_sum_ms": delta.ttft_sum_ms,
        "input_tokens": delta.input_tokens,
        "output_tokens": delta.output_tokens,
        "spend": delta.spend,
    }
    sums.update(zip(BUCKET_COLUMNS, delta.ttft_buckets, strict=True))
    return sums


def _added(row: RowMapping, delta: RollupDelta) -> dict[str, Any]:
    sums = _sums(delta)
    return {f"v_{name}": row[name] + sums[name] for name in _SUM_COLUMNS}


async def apply_deltas(conn: AsyncConnection, deltas: Mapping[RollupKey, RollupDelta]) -> None:
    """Add ``deltas`` to their rollup rows, creating the missing ones. Call inside the
    transaction that stores the requests they count, so both commit or neither does."""
    if not deltas:
        return
    if conn.dialect.name == "postgresql":
        await _upsert(conn, deltas)
        return
    keys = sorted(deltas)  # one lock order for every writer
    for start in range(0, len(keys), KEY_CHUNK):
        await _apply_chunk(conn, keys[start : start + KEY_CHUNK], deltas)


def _new_row(key: RollupKey, delta: RollupDelta) -> dict[str, Any]:
    return {**dict(zip(_KEY_COLUMNS, _key_values(key), strict=True)), **_sums(delta)}


_COLUMNS = (*_KEY_COLUMNS, *_SUM_COLUMNS)


def _upsert_sql(dialect: Dialect) -> TextClause:
    """One ``INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE`` adding every row of a
    batch, in key order: one lock order for every writer."""
    quote = dialect.identifier_preparer.quote
    keys = ", ".join(quote(name) for name in _KEY_COLUMNS)
    added = ", ".join(
        f"{quote(name)} = request_rollup.{quote(name)} + excluded.{quote(name)}"
        for name in _SUM_COLUMNS
    )
    return text(
        f"INSERT INTO request_rollup ({column_list(request_rollup, _COLUMNS, dialect)}) "
        f"{unnest_select(request_rollup, _COLUMNS, dialect)} ORDER BY {keys} "
        f"ON CONFLICT ({keys}) DO UPDATE SET {added}"
    )


_UPSERT = _upsert_sql(postgresql.dialect())  # type: ignore[no-untyped-call]


async def _upsert(conn: AsyncConnection, deltas: Mapping[RollupKey, RollupDelta]) -> None:
    keys = list(deltas)
    values = list(deltas.values())
    arrays: dict[str, list[Any]] = {
        f"c_{name}": [key[index] for key in keys] for index, name in enumerate(_KEY_COLUMNS)
    }
    arrays["c_requests"] = [delta.requests for delta in values]
    arrays["c_errors"] = [delta.errors for delta in values]
    arrays["c_ttft_count"] = [delta.ttft_count for delta in values]
    arrays["c_ttft_sum_ms"] = [delta.ttft_sum_ms for delta in values]
    arrays["c_input_tokens"] = [delta.input_tokens for delta in values]
    arrays["c_output_tokens"] = [delta.output_tokens for delta in values]
    arrays["c_spend"] = [delta.spend for delta in values]
    buckets = zip(*(delta.ttft_buckets for delta in values), strict=True)
    for name, counts in zip(BUCKET_COLUMNS, buckets, strict=True):
        arrays[f"c_{name}"] = list(counts)
    # Bound as they are: the keys' bucket starts are UTC already, spend is a Decimal.
    await conn.execute(_UPSERT, arrays)


async def _apply_chunk(
    conn: AsyncConnection, keys: Sequence[RollupKey], deltas: Mapping[RollupKey, RollupDelta]
) -> None:
    key_columns = tuple_(*(_c[name] for name in _KEY_COLUMNS))
    found = await conn.execute(
        select(request_rollup)
        .where(key_columns.in_([_key_values(key) for key in keys]))
        .order_by(*(_c[name] for name in _KEY_COLUMNS))
        .with_for_update()
    )
    existing = {RollupKey(*(row[name] for name in _KEY_COLUMNS)): row for row in found.mappings()}
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for key in keys:
        delta = deltas[key]
        row = existing.get(key)
        if row is None:
            inserts.append(_new_row(key, delta))
        else:
            keyed = {
                f"k_{name}": value
                for name, value in zip(_KEY_COLUMNS, _key_values(key), strict=True)
            }
            updates.append({**keyed, **_added(row, delta)})
    if updates:
        await conn.execute(_UPDATE, updates)
    if inserts:
        await conn.execute(insert(request_rollup), inserts)


def percentile_sql(per_mille: int) -> ColumnElement[int]:
    """:func:`tollgate_activity.rollups.buckets.percentile_ms` computed by the database from the
    cumulative columns: the edge of the first bucket whose count reaches the nearest rank
    (0 without any TTFT)."""
    rank = (_c.ttft_count * per_mille + 999) // 1000  # ceil(count * per_mille / 1000)
    whens: list[tuple[ColumnElement[bool], int]] = [(_c.ttft_count == 0, 0)]
    # The overflow bucket has no edge of its own: it is the ``else``.
    for name, edge in zip(BUCKET_COLUMNS, TTFT_EDGES_MS, strict=False):
        whens.append((_c[name] >= rank, edge))
    return case(*whens, else_=TTFT_EDGES_MS[-1])


def _metric_columns(metric: Metric) -> list[tuple[str, ColumnElement[Any]]]:
    """The :class:`Series` columns of ``metric``, with the SQL of each."""
    if metric is Metric.TTFT:
        average = case((_c.ttft_count == 0, 0.0), else_=cast(_c.ttft_sum_ms, Float) / _c.ttft_count)
        return [
            ("ttft_avg_ms", average),
            ("ttft_p50_ms", percentile_sql(P50)),
            ("ttft_p95_ms", percentile_sql(P95)),
        ]
    if metric is Metric.TOKENS:
        return [("input_tokens", _c.input_tokens), ("output_tokens", _c.output_tokens)]
    if metric is Metric.SPEND:
        return [("spend", _c.spend)]
    return []


def _in_query(query: ObservabilityQuery) -> list[ColumnElement[bool]]:
    return [
        _c.team_id == query.team_id,
        _c.scope == query.scope,
        _c.resolution == query.resolution.value,
        _c.bucket_start >= query.since,
        _c.bucket_start < query.until,
    ]


class RollupRepository:
    """Implements :class:`tollgate_activity.rollups.service.Rollups`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def read(self, query: ObservabilityQuery) -> list[Series]:
        async with self._engine.connect() as conn:
            return await read_rollups(conn, query)


async def read_rollups(conn: AsyncConnection, query: ObservabilityQuery) -> list[Series]:
    """The series of the query's team, scope and resolution in its range, one per model (by
    name), buckets oldest first. Only the columns of its metric are read and the percentiles
    are computed in SQL: a 30-day hourly query covers thousands of buckets, and per-row work
    in Python is what costs. PostgreSQL returns one row per model with an array per column."""
    columns = [("starts", None), ("requests", _c.requests), *_metric_columns(query.metric)]
    if conn.dialect.name == "postgresql":
        return await _read_arrays(conn, query, columns)
    return await _read_rows(conn, query, columns)


async def _read_arrays(
    conn: AsyncConnection,
    query: ObservabilityQuery,
    columns: list[tuple[str, ColumnElement[Any] | None]],
) -> list[Series]:
    epoch = cast(extract("epoch", _c.bucket_start), BigInteger)
    aggregates = [
        func.array_agg(aggregate_order_by(epoch if sql is None else sql, _c.bucket_start))
        for _, sql in columns
    ]
    result = await conn.execute(
        select(_c.model, *aggregates).where(*_in_query(query)).group_by(_c.model).order_by(_c.model)
    )
    names = [name for name, _ in columns]
    return [Series(row[0], **dict(zip(names, row[1:], strict=True))) for row in result.all()]


async def _read_rows(
    conn: AsyncConnection,
    query: ObservabilityQuery,
    columns: list[tuple[str, ColumnElement[Any] | None]],
) -> list[Series]:
    sql = [_c.bucket_start if sql is None else sql for _, sql in columns]
    result = await conn.execute(
        select(_c.model, *sql).where(*_in_query(query)).order_by(_c.model, _c.bucket_start)
    )
    names = [name for name, _ in columns]
    by_model: dict[str, Series] = {}
    for row in result.all():
        series = by_model.get(row[0])
        if series is None:
            series = by_model[row[0]] = Series(row[0])
        series.starts.append(int(row[1].timestamp()))
        for name, value in zip(names[1:], row[2:], strict=True):
            getattr(series, name).append(value)
    return list(by_model.values())
