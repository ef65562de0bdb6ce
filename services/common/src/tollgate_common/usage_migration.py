"""The migration step that moves a table of usage records to the ``usage`` column: the whole
fact in one column (:mod:`tollgate_common.usage_record`) instead of a column per field.

It expands only: the previous release's pods keep writing and reading every column while a
rolling update replaces them, so the columns the fact now holds stay (with a default, since the
new release no longer writes them) until a later migration drops them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from google.protobuf.descriptor import FieldDescriptor
from tollgate.events.v1.usage_pb2 import UsageRecorded

from tollgate_common.db_types import Money, UtcDateTime
from tollgate_common.usage_record import MONEY_FIELDS, USAGE_COLUMN, UsageTable, usage_column

# Rows read and rewritten per round trip.
BACKFILL_CHUNK = 1000
_FIELDS: Mapping[str, Any] = UsageRecorded.DESCRIPTOR.fields_by_name


def _field(name: str, renames: Mapping[str, str]) -> FieldDescriptor | None:
    return _FIELDS.get(renames.get(name, name))


def _read_type(name: str, field: FieldDescriptor | None) -> Any:
    """How to read a stored value back as Python (ints and strings need nothing)."""
    if field is None:
        return None
    if field.name in MONEY_FIELDS:
        return Money
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return UtcDateTime
    if field.is_repeated:
        return sa.JSON
    if field.type == FieldDescriptor.TYPE_BOOL:
        return sa.Boolean
    return None


def _default(field: FieldDescriptor) -> Any:
    if field.type == FieldDescriptor.TYPE_BOOL:
        return sa.false()
    if field.type == FieldDescriptor.TYPE_STRING and field.name not in MONEY_FIELDS:
        return ""
    return "0"


def add_usage_column(
    table: str, key: str, renames: Mapping[str, str], no_longer_written: Sequence[str]
) -> None:
    """Add the ``usage`` column to ``table`` (primary key ``key``), write each row's fact into
    it from the row's columns, and give the columns ``no_longer_written`` a server default."""
    bind = op.get_bind()
    names = [c["name"] for c in sa.inspect(bind).get_columns(table)]
    op.add_column(table, usage_column())
    columns = [sa.column(name, _read_type(name, _field(name, renames))) for name in names]
    source = sa.table(table, *columns)
    target = sa.table(table, sa.column(key), sa.column(USAGE_COLUMN, sa.LargeBinary))
    rows = UsageTable(sa.Table(table, sa.MetaData()), renames)
    update = (
        sa.update(target)
        .where(target.c[key] == sa.bindparam("k"))
        .values({USAGE_COLUMN: sa.bindparam("u")})
    )
    last: Any = None
    while True:
        query = sa.select(source).order_by(source.c[key]).limit(BACKFILL_CHUNK)
        if last is not None:
            query = query.where(source.c[key] > last)
        chunk = bind.execute(query).mappings().all()
        if not chunk:
            break
        bind.execute(
            update, [{"k": row[key], "u": rows.fact(row).SerializeToString()} for row in chunk]
        )
        last = chunk[-1][key]
    with op.batch_alter_table(table) as batch:
        for name in no_longer_written:
            field = _field(name, renames)
            assert field is not None, name
            batch.alter_column(name, server_default=_default(field))


def drop_usage_column(table: str, no_longer_written: Sequence[str]) -> None:
    """Undo :func:`add_usage_column` (the facts' fields not kept in columns are lost)."""
    with op.batch_alter_table(table) as batch:
        for name in no_longer_written:
            batch.alter_column(name, server_default=None)
        batch.drop_column(USAGE_COLUMN)
