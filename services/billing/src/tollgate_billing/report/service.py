"""The spend report (``GET /v1/report``): a team's generations summed per day, hour, end user,
model, tag, provider or credential type over a range of UTC calendar days. Exact: costs are
summed as Decimal. A generation with several tags counts in each of their groups (so the tag
groups may add up to more than the total); one without tags is in none."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Protocol

from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_common.errors import InvalidArgument
from tollgate_common.money import ZERO

GROUPS = ("day", "user", "model", "tag", "provider", "credential_type")
DATE_PARTS = ("day", "hour")
CREDENTIAL_TYPES = ("byok", "system")
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class ReportQuery:
    team_id: str
    start: date
    end: date  # inclusive
    group_by: str = "day"
    date_part: str = "day"
    model: str = ""
    provider: str = ""
    credential_type: str = ""
    user: str = ""
    tags: tuple[str, ...] = ()  # generations with at least one of them

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        """The first moment after the range."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)


@dataclass(frozen=True, slots=True)
class UsageLine:
    """What the report needs of one generation: its usage fact (the token counts it sums) and
    the columns it selects and groups by."""

    usage: UsageRecorded
    created_at: datetime
    model: str
    provider: str
    credential_type: str
    cost: Decimal
    market_cost: Decimal
    end_user: str
    tags: Sequence[str]


@dataclass(slots=True)
class ReportRow:
    key: str
    total_cost: Decimal = ZERO
    market_cost: Decimal = ZERO
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    reasoning_tokens: int = 0
    request_count: int = 0

    def add(self, line: UsageLine) -> None:
        usage = line.usage
        self.total_cost += line.cost
        self.market_cost += line.market_cost
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cached_input_tokens += usage.cached_input_tokens
        self.cache_creation_input_tokens += usage.cache_write_tokens
        self.reasoning_tokens += usage.reasoning_tokens
        self.request_count += 1


def _invalid(message: str, param: str) -> InvalidArgument:
    return InvalidArgument(message, metadata={"param": param})


def _date(text: str, param: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise _invalid(f"{param} must be a date YYYY-MM-DD", param) from None


def _choice(value: str, allowed: tuple[str, ...], default: str, param: str) -> str:
    value = value or default
    if value not in allowed:
        raise _invalid(f"{param} must be one of {', '.join(allowed)}", param)
    return value


def report_query(
    team_id: str,
    start_date: str,
    end_date: str,
    *,
    group_by: str = "",
    date_part: str = "",
    model: str = "",
    provider: str = "",
    credential_type: str = "",
    user: str = "",
    tags: Sequence[str] = (),
) -> ReportQuery:
    """A validated query; INVALID_ARGUMENT naming the parameter otherwise."""
    if not team_id:
        raise _invalid("team_id is required", "team_id")
    start, end = _date(start_date, "start_date"), _date(end_date, "end_date")
    if end < start:
        raise _invalid("end_date is before start_date", "end_date")
    if (end - start).days >= MAX_DAYS:
        raise _invalid(f"the range may span at most {MAX_DAYS} days", "end_date")
    if credential_type:
        _choice(credential_type, CREDENTIAL_TYPES, "", "credential_type")
    return ReportQuery(
        team_id=team_id,
        start=start,
        end=end,
        group_by=_choice(group_by, GROUPS, "day", "group_by"),
        date_part=_choice(date_part, DATE_PARTS, "day", "date_part"),
        model=model,
        provider=provider,
        credential_type=credential_type,
        user=user,
        tags=tuple(t for t in tags if t),
    )


def _keys(query: ReportQuery, line: UsageLine) -> Sequence[str]:
    if query.group_by == "day":
        moment = line.created_at.astimezone(UTC)
        if query.date_part == "hour":
            return (moment.strftime("%Y-%m-%dT%H:00:00Z"),)
        return (moment.date().isoformat(),)
    if query.group_by == "tag":
        return tuple(dict.fromkeys(line.tags))
    if query.group_by == "user":
        return (line.end_user,)
    value: str = getattr(line, query.group_by)
    return (value,)


def aggregate(query: ReportQuery, lines: Iterable[UsageLine]) -> list[ReportRow]:
    """One row per group, ordered by key."""
    rows: dict[str, ReportRow] = {}
    wanted = set(query.tags)
    for line in lines:
        if wanted and wanted.isdisjoint(line.tags):
            continue
        for key in _keys(query, line):
            row = rows.get(key)
            if row is None:
                row = rows[key] = ReportRow(key)
            row.add(line)
    return [rows[key] for key in sorted(rows)]


class UsageLines(Protocol):
    async def usage_lines(self, query: ReportQuery) -> list[UsageLine]: ...


class SpendReports:
    def __init__(self, store: UsageLines) -> None:
        self._store = store

    async def report(self, query: ReportQuery) -> list[ReportRow]:
        return aggregate(query, await self._store.usage_lines(query))
