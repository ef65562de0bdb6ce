"""Rollup rows in SQL: adding a batch's increments inside the caller's transaction, and reading
a query's rows. Spend is summed in Python with Decimal (SQLite has no exact decimals), so a
row is read (locked on PostgreSQL), added to and written back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, and_, bindparam, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tollgate_activity.models import request_rollup
from tollgate_activity.observability import ObservabilityQuery, RollupRow
from tollgate_activity.rollups import BUCKET_COLUMNS, RollupDelta, RollupKey

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
    keys = sorted(deltas, key=_key_values)  # one lock order for every writer
    for start in range(0, len(keys), KEY_CHUNK):
        await _apply_chunk(conn, keys[start : start + KEY_CHUNK], deltas)


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
            inserts.append(
                {**dict(zip(_KEY_COLUMNS, _key_values(key), strict=True)), **_sums(delta)}
            )
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


async def read_rollups(conn: AsyncConnection, query: ObservabilityQuery) -> list[RollupRow]:
    """The rows of the query's team, scope and resolution with a bucket in its range."""
    result = await conn.execute(
        select(request_rollup).where(
            _c.team_id == query.team_id,
            _c.scope == query.scope,
            _c.resolution == query.resolution.value,
            _c.bucket_start >= query.since,
            _c.bucket_start < query.until,
        )
    )
    return [
        RollupRow(
            model=row["model"],
            bucket_start=row["bucket_start"],
            requests=row["requests"],
            errors=row["errors"],
            ttft_count=row["ttft_count"],
            ttft_sum_ms=row["ttft_sum_ms"],
            input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"],
            spend=row["spend"],
            ttft_buckets=tuple(row[name] for name in BUCKET_COLUMNS),
        )
        for row in result.mappings()
    ]
