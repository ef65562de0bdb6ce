"""The newest-first keyset query behind every list (the request log, the activity log): the SQL
twin of :mod:`tollgate_activity.pagination`'s cursors, used by the repositories only."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, Table, and_, or_, select

from tollgate_activity.pagination import Cursor, TimeRange


def newest_first(
    table: Table,
    id_column: str,
    team_id: str,
    equal: Sequence[tuple[str, str]],
    time_range: TimeRange,
    after: Cursor | None,
    limit: int,
) -> Select[tuple[object, ...]]:
    """A page of ``team_id``'s rows of ``table``, newest first (ties by ``id_column``): those
    whose columns equal the non-empty values of ``equal``, created within ``time_range``,
    strictly after ``after`` (keyset pagination on (created_at, id), both descending)."""
    c = table.c
    created, item_id = c.created_at, c[id_column]
    query = select(table).where(c.team_id == team_id)
    query = query.where(*(c[name] == value for name, value in equal if value))
    if time_range.since is not None:
        query = query.where(created >= time_range.since)
    if time_range.until is not None:
        query = query.where(created < time_range.until)
    if after is not None:
        query = query.where(
            or_(created < after.created_at, and_(created == after.created_at, item_id < after.id))
        )
    return query.order_by(created.desc(), item_id.desc()).limit(limit)
