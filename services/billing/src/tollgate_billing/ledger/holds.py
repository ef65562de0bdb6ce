"""Holds in SQL: a team's live holds read into :class:`Hold` values, new ones written, settled
ones updated or deleted, expired ones kept as *unsettled* for the operator.

Every function runs inside a transaction that has locked the team's balance row (see
:mod:`tollgate_billing.ledger.repository`): that lock is what makes a Reserve see every hold of
its team, whichever billing process wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import RowMapping, and_, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from tollgate_common.money import ZERO

from tollgate_billing.ledger.view import Hold, HoldTally, Requester, Reservation
from tollgate_billing.models import holds


class HoldState(StrEnum):
    LIVE = "live"  # holds money
    UNSETTLED = "unsettled"  # expired without its router giving it back; holds nothing


@dataclass(frozen=True, slots=True)
class NewHold:
    """A hold just decided, with what the operator may want to know of it later."""

    team_id: str
    hold_id: str
    hold: Hold
    instance_id: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class UnsettledHold:
    """A hold that expired while its router had not given it back: its generations' usage
    facts may never come (the router died), so what it held was never charged nor returned
    by a fact; billing let the money go once every fact published before its expiry had been
    applied."""

    team_id: str
    hold_id: str
    project_id: str
    key_id: str
    reserved: Decimal
    debited: Decimal
    held: Decimal  # what it still held when it expired
    instance_id: str
    created_at: datetime
    expires_at: datetime
    expired_at: datetime


def _hold(row: RowMapping) -> Hold:
    return Hold(
        Reservation(row["reserved"], row["max_output_tokens"], row["output_allowance"]),
        row["held"],
        row["debited"],
        row["returned"],
        Requester(row["project_id"], row["key_id"]),
    )


async def tally(conn: AsyncConnection, team_id: str) -> HoldTally:
    """The team's :class:`HoldTally`: running ones counted by the database, what returned
    ones owe summed here (money is never summed in SQL: SQLite has no exact decimal)."""
    live = (holds.c.team_id == team_id, holds.c.state == HoldState.LIVE)
    running = select(func.count()).where(*live, holds.c.returned.is_(False))
    owed = select(holds.c.held).where(*live, holds.c.returned.is_(True))
    return HoldTally(
        (await conn.execute(running)).scalar_one(),
        sum((await conn.execute(owed)).scalars(), ZERO),
    )


async def live_holds(conn: AsyncConnection, team_id: str) -> dict[str, Hold]:
    """The team's holds that hold money, by hold id."""
    query = select(holds).where(holds.c.team_id == team_id, holds.c.state == HoldState.LIVE)
    rows = (await conn.execute(query)).mappings()
    return {row["hold_id"]: _hold(row) for row in rows}


async def insert_hold(conn: AsyncConnection, new: NewHold) -> bool:
    """Write a new hold; False when one of its id exists already (nothing written)."""
    hold = new.hold
    statement = _insert(conn)
    result = await conn.execute(
        statement.values(
            team_id=new.team_id,
            hold_id=new.hold_id,
            project_id=hold.requester.project_id,
            key_id=hold.requester.key_id,
            reserved=hold.reservation.reserved,
            max_output_tokens=hold.reservation.max_output_tokens,
            output_allowance=hold.reservation.output_allowance,
            held=hold.amount,
            debited=hold.debited,
            returned=hold.returned,
            state=HoldState.LIVE.value,
            instance_id=new.instance_id,
            created_at=new.created_at,
            expires_at=new.expires_at,
        )
        .on_conflict_do_nothing(index_elements=[holds.c.team_id, holds.c.hold_id])
        .returning(holds.c.hold_id)
    )
    return result.first() is not None


def _insert(conn: AsyncConnection) -> Any:
    """``INSERT`` of the connection's dialect, which has ``on_conflict_do_nothing``."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(holds)


async def holds_named(
    conn: AsyncConnection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[Hold, HoldState]]:
    """The holds (live or unsettled) of these ``(team id, hold id)`` pairs."""
    wanted = set(keys)
    if not wanted:
        return {}
    query = select(holds).where(
        holds.c.team_id.in_({team for team, _ in wanted}),
        holds.c.hold_id.in_({hold_id for _, hold_id in wanted}),
    )
    found = {}
    for row in (await conn.execute(query)).mappings():
        key = (row["team_id"], row["hold_id"])
        if key in wanted:
            found[key] = (_hold(row), HoldState(row["state"]))
    return found


_UPDATE = (
    update(holds)
    .where(and_(holds.c.team_id == bindparam("h_team"), holds.c.hold_id == bindparam("h_id")))
    .values(held=bindparam("held"), debited=bindparam("debited"), returned=bindparam("returned"))
)
_DELETE = delete(holds).where(
    and_(holds.c.team_id == bindparam("h_team"), holds.c.hold_id == bindparam("h_id"))
)


async def write_holds(
    conn: AsyncConnection,
    changed: Sequence[tuple[str, str, Hold]],
    done: Sequence[tuple[str, str]],
) -> None:
    """Store the ``changed`` holds' new figures and delete the ``done`` ones."""
    if changed:
        await conn.execute(
            _UPDATE,
            [
                {
                    "h_team": team,
                    "h_id": hold_id,
                    "held": h.amount,
                    "debited": h.debited,
                    "returned": h.returned,
                }
                for team, hold_id, h in changed
            ],
        )
    if done:
        await conn.execute(_DELETE, [{"h_team": team, "h_id": hold_id} for team, hold_id in done])


async def expired_teams(conn: AsyncConnection, before: datetime) -> list[str]:
    """The teams with live holds that expired before ``before``."""
    query = (
        select(holds.c.team_id)
        .where(holds.c.state == HoldState.LIVE, holds.c.expires_at <= before)
        .distinct()
    )
    return sorted((await conn.execute(query)).scalars())


async def expire(
    conn: AsyncConnection, team_id: str, before: datetime, at: datetime
) -> tuple[int, Decimal]:
    """Let the team's live holds that expired before ``before`` go: the ones their routers gave
    back are done; the others become unsettled. How many went, and what they held."""
    h = holds.c
    expired = (h.team_id == team_id) & (h.state == HoldState.LIVE) & (h.expires_at <= before)
    amounts = list((await conn.execute(select(h.held).where(expired))).scalars())
    returned = await conn.execute(delete(holds).where(expired & h.returned.is_(True)))
    unsettled = await conn.execute(
        update(holds).where(expired).values(state=HoldState.UNSETTLED.value, expired_at=at)
    )
    return int(returned.rowcount or 0) + int(unsettled.rowcount or 0), sum(amounts, ZERO)


async def unsettled(conn: AsyncConnection, team_id: str | None, limit: int) -> list[UnsettledHold]:
    """Unsettled holds, the most recently expired first: of one team, or of all (None)."""
    h = holds.c
    query = select(holds).where(h.state == HoldState.UNSETTLED)
    if team_id is not None:
        query = query.where(h.team_id == team_id)
    query = query.order_by(h.expired_at.desc(), h.team_id, h.hold_id).limit(limit)
    return [
        UnsettledHold(
            team_id=row["team_id"],
            hold_id=row["hold_id"],
            project_id=row["project_id"],
            key_id=row["key_id"],
            reserved=row["reserved"],
            debited=row["debited"],
            held=row["held"] or ZERO,
            instance_id=row["instance_id"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            expired_at=row["expired_at"],
        )
        for row in (await conn.execute(query)).mappings()
    ]
