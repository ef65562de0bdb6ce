"""One finished generation's usage record: the ``UsageRecorded`` fact, as billing and activity
store and answer it.

The fact (``protos/tollgate/events/v1/usage.proto``) is the one definition of a usage record.
A service's table keeps the columns it filters, indexes or sums, plus the whole fact in the
``usage`` column (protobuf bytes); every other value is read back from the fact. Rows, the
lookups' messages and the stored columns' checks are derived from the table's columns and the
messages' descriptors, so a new field of the fact needs no column, no migration and no mapping:
it is stored with the fact, and answered by any response message with a field of its name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from sqlalchemy import Column, LargeBinary, String, Table, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import ColumnClause
from tollgate.events.v1.usage_pb2 import UsageRecorded

from tollgate_common.money import format_usd, parse_usd
from tollgate_common.timestamps import timestamp

# The column holding the whole fact.
USAGE_COLUMN = "usage"
# The fact's USD amounts (decimal strings on the wire, Decimal in Python, Money in SQL).
MONEY_FIELDS = ("cost", "market_cost")
# Money columns are NUMERIC(38, 18): at most 20 digits before the point.
MAX_AMOUNT = Decimal(10) ** 20
# Keys per query completing the previous release's rows.
_ROWS_PER_QUERY = 500

_FIELDS = UsageRecorded.DESCRIPTOR.fields_by_name
_COUNTS = tuple(
    f.name
    for f in UsageRecorded.DESCRIPTOR.fields
    if f.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32)
)

Reply = TypeVar("Reply", bound=Message)


@dataclass(frozen=True)
class FactFields:
    """The fields of the dataclass ``source`` that the fact has too (by name): what a producer
    puts on the fact without naming each field (derived once)."""

    source: type[Any]
    # Taken as they are; repeated ones (given only when not empty: an empty one is the fact's
    # default); USD amounts (Decimal) and times (datetime), written as the fact writes them.
    _plain: tuple[str, ...] = field(init=False)
    _repeated: tuple[str, ...] = field(init=False)
    _money: tuple[str, ...] = field(init=False)
    _times: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = [f.name for f in fields(self.source) if f.name in _FIELDS]
        times = tuple(n for n in names if _FIELDS[n].type == FieldDescriptor.TYPE_MESSAGE)
        money = tuple(n for n in names if n in MONEY_FIELDS)
        repeated = tuple(n for n in names if _FIELDS[n].is_repeated)
        plain = tuple(n for n in names if n not in (*times, *money, *repeated))
        object.__setattr__(self, "_plain", plain)
        object.__setattr__(self, "_repeated", repeated)
        object.__setattr__(self, "_money", money)
        object.__setattr__(self, "_times", times)

    def values(self, source: object) -> dict[str, Any]:
        """The fact's values of ``source``, as keyword arguments of ``UsageRecorded``."""
        values = {name: getattr(source, name) for name in self._plain}
        for name in self._repeated:
            if items := getattr(source, name):
                values[name] = items
        for name in self._money:
            values[name] = format_usd(getattr(source, name))
        for name in self._times:
            values[name] = timestamp(getattr(source, name))
        return values


def usage_column() -> Column[bytes]:
    """The whole fact, serialized. Null only in a row the previous release wrote (it kept every
    value in a column of its own; see :meth:`UsageTable.fact`)."""
    return Column(USAGE_COLUMN, LargeBinary, nullable=True)


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """A fact as a service keeps it: the fact (never modified once here) and the values its
    rules read, decoded once. Build one with :func:`usage_record`."""

    fact: UsageRecorded
    created_at: datetime
    cost: Decimal
    market_cost: Decimal

    @property
    def generation_id(self) -> str:
        return self.fact.generation_id

    @property
    def team_id(self) -> str:
        return self.fact.team_id

    @property
    def project_id(self) -> str:
        return self.fact.project_id

    @property
    def key_id(self) -> str:
        return self.fact.key_id

    @property
    def hold_id(self) -> str:
        return self.fact.hold_id


def usage_record(fact: UsageRecorded, received_at: datetime, **changes: Any) -> UsageRecord:
    """The record of ``fact``, with ``changes`` (fact fields, or ``cost`` / ``market_cost`` /
    ``created_at`` as Decimal and datetime). A fact without ``created_at`` takes
    ``received_at``. The record's fact holds exactly its values: amounts written as
    :func:`format_usd` writes them, the time to the microsecond (as the databases keep it); a
    fact that does already (the router's) is kept as it is. ``ValueError`` for an amount that
    is not a decimal."""
    cost, market_cost = parse_usd(fact.cost), parse_usd(fact.market_cost)
    stamped = fact.HasField("created_at")
    created_at = fact.created_at.ToDatetime(UTC) if stamped else received_at
    record = UsageRecord(
        fact,
        created_at=changes.pop("created_at", created_at),
        cost=changes.pop("cost", cost),
        market_cost=changes.pop("market_cost", market_cost),
    )
    cost_text, market_text = format_usd(record.cost), format_usd(record.market_cost)
    if (
        not changes
        and stamped
        and record.created_at == created_at
        and fact.created_at.nanos % 1000 == 0
        and (fact.cost, fact.market_cost) == (cost_text, market_text)
    ):
        return record
    rewritten = UsageRecorded()
    rewritten.CopyFrom(fact)
    for name, value in changes.items():
        _set(rewritten, name, value)
    rewritten.cost, rewritten.market_cost = cost_text, market_text
    rewritten.created_at.FromDatetime(record.created_at)
    return replace(record, fact=rewritten)


def clipped(fact: UsageRecorded, lengths: Mapping[str, int]) -> dict[str, str]:
    """The fact's string fields named in ``lengths`` that must change to be stored: each cut
    to its length and rid of NUL characters (PostgreSQL cannot store one), as ``changes`` for
    :func:`usage_record`. For the fields that only describe a generation: a provider's odd
    finish reason must not keep it from being recorded (and charged)."""
    changes: dict[str, str] = {}
    for name, length in lengths.items():
        value: str = getattr(fact, name)
        fitted = (
            value.replace("\x00", "")[:length] if len(value) > length or "\x00" in value else value
        )
        if fitted != value:
            changes[name] = fitted
    return changes


@dataclass(frozen=True)
class Answer(Generic[Reply]):
    """Builds a ``reply`` message whose every field is the fact's field of the same name (or of
    the name ``renames`` gives it); the pairs of fields are derived from the descriptors once."""

    reply: type[Reply]
    renames: Mapping[str, str]
    # (reply field, fact field): set by value; and the message fields, set when present.
    _values: tuple[tuple[str, str], ...] = field(init=False)
    _messages: tuple[tuple[str, str], ...] = field(init=False)

    def __post_init__(self) -> None:
        pairs = [(d, self.renames.get(d.name, d.name)) for d in self.reply.DESCRIPTOR.fields]
        values = tuple((d.name, f) for d, f in pairs if d.type != FieldDescriptor.TYPE_MESSAGE)
        messages = tuple((d.name, f) for d, f in pairs if d.type == FieldDescriptor.TYPE_MESSAGE)
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_messages", messages)

    def __call__(self, record: UsageRecord) -> Reply:
        fact = record.fact
        message = self.reply(**{name: getattr(fact, source) for name, source in self._values})
        for name, source in self._messages:
            if fact.HasField(source):
                getattr(message, name).CopyFrom(getattr(fact, source))
        return message


@dataclass(frozen=True)
class UsageTable:
    """How one table stores usage records: its columns named as the fact's fields (or renamed:
    ``renames`` maps a column to its field), plus :data:`USAGE_COLUMN`."""

    table: Table
    renames: Mapping[str, str]
    # Derived from the table once: (column, fact field) of the columns taken from the fact,
    # of those taken from the record's decoded values, of the repeated ones; and the length
    # limit of each string column, by fact field.
    _from_fact: tuple[tuple[str, str], ...] = field(init=False)
    _from_record: tuple[tuple[str, str], ...] = field(init=False)
    _repeated: tuple[tuple[str, str], ...] = field(init=False)
    _lengths: tuple[tuple[str, int], ...] = field(init=False)

    def __post_init__(self) -> None:
        columns = [
            (c.name, self.renames.get(c.name, c.name), c)
            for c in self.table.columns
            if c.name != USAGE_COLUMN
        ]
        decoded = ("created_at", *MONEY_FIELDS)
        plan = {
            "_from_fact": tuple(
                (n, f) for n, f, _ in columns if f not in decoded and not _FIELDS[f].is_repeated
            ),
            "_from_record": tuple((n, f) for n, f, _ in columns if f in decoded),
            "_repeated": tuple((n, f) for n, f, _ in columns if _FIELDS[f].is_repeated),
            "_lengths": tuple(
                (f, c.type.length)
                for _, f, c in columns
                if isinstance(c.type, String) and c.type.length is not None
            ),
        }
        for name, value in plan.items():
            object.__setattr__(self, name, value)

    def row(self, record: UsageRecord) -> dict[str, Any]:
        """The row of ``record``: each column the fact's value, typed for the column."""
        fact = record.fact
        values = {column: getattr(fact, name) for column, name in self._from_fact}
        values.update((column, getattr(record, name)) for column, name in self._from_record)
        values.update((column, list(getattr(fact, name))) for column, name in self._repeated)
        values[USAGE_COLUMN] = fact.SerializeToString()
        return values

    def check(self, record: UsageRecord) -> None:
        """``ValueError`` for a record that could never be stored: no generation or team id,
        a stored string longer than its column or with a NUL character (PostgreSQL cannot
        store it), a negative count, an amount out of the money columns' range, a naive
        time."""
        fact = record.fact
        for name in ("generation_id", "team_id"):
            if not getattr(fact, name):
                raise ValueError(f"{name} is empty")
        for name, length in self._lengths:
            value = getattr(fact, name)
            if len(value) > length:
                raise ValueError(f"{name} is longer than {length} characters")
            if "\x00" in value:
                raise ValueError(f"{name} contains a NUL character")
        for name in _COUNTS:
            if getattr(fact, name) < 0:
                raise ValueError(f"{name} is negative")
        for name, amount in (("cost", record.cost), ("market_cost", record.market_cost)):
            if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
                raise ValueError(f"{name} is out of range: {amount}")
        if record.created_at.tzinfo is None:
            raise ValueError("created_at has no time zone")

    def record(self, row: Mapping[Any, Any]) -> UsageRecord:
        """The record a row stores."""
        data = row.get(USAGE_COLUMN)
        if data is None:
            return usage_record(self.fact(row), row["created_at"])
        fact = UsageRecorded.FromString(data)  # stored as its record, values written already
        return UsageRecord(
            fact, row["created_at"], parse_usd(fact.cost), parse_usd(fact.market_cost)
        )

    async def completed(
        self, conn: AsyncConnection, rows: Sequence[Mapping[Any, Any]]
    ) -> Sequence[Mapping[Any, Any]]:
        """``rows``, each one that the previous release wrote (``usage`` null) completed with
        every column that release kept, as stored (read only by :meth:`fact`, for a fact's
        field of the column's name). Rows this release wrote need no query."""
        key = self.table.primary_key.columns.values()[0]
        missing = [row[key.name] for row in rows if row[USAGE_COLUMN] is None]
        if not missing:
            return rows
        stored: dict[Any, Mapping[Any, Any]] = {}
        for start in range(0, len(missing), _ROWS_PER_QUERY):
            chunk = missing[start : start + _ROWS_PER_QUERY]
            every_column: ColumnClause[Any] = literal_column("*")
            query = select(every_column).select_from(self.table).where(key.in_(chunk))
            stored.update((r[key.name], r) for r in (await conn.execute(query)).mappings())
        return [
            row if row[USAGE_COLUMN] is not None else {**stored[row[key.name]], **row}
            for row in rows
        ]

    def fact(self, row: Mapping[Any, Any]) -> UsageRecorded:
        """The fact of ``row``: its ``usage`` column, or, in a row the previous release wrote
        (``usage`` null; see :meth:`completed`), the fact its columns hold."""
        data = row.get(USAGE_COLUMN)
        if data is not None:
            return UsageRecorded.FromString(data)
        fact = UsageRecorded()
        for column, value in row.items():
            name = self.renames.get(column, column)
            if name in _FIELDS and value is not None:
                _set(fact, name, value)
        return fact


def _set(fact: UsageRecorded, name: str, value: Any) -> None:
    """Set a fact's field from a Python (or database) value."""
    field = _FIELDS[name]
    if field.type == FieldDescriptor.TYPE_MESSAGE:  # a Timestamp
        getattr(fact, name).FromDatetime(value)
    elif field.is_repeated:
        del getattr(fact, name)[:]
        getattr(fact, name).extend(value)
    elif name in MONEY_FIELDS:
        setattr(fact, name, format_usd(Decimal(value)) if value != "" else "")
    elif field.type == FieldDescriptor.TYPE_BOOL:
        setattr(fact, name, bool(value))
    else:
        setattr(fact, name, value)
