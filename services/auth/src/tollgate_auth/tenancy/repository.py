"""SQL for teams, members, projects and API key listings; owns its transactions.

Checks that must hold against concurrent changes (the last owner, the last member) run inside
the transaction that changes the team, after :func:`_lock_team` has serialized writers of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, insert, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tollgate_common.ids import new_id

from tollgate_auth.domain import (
    BOOTSTRAP_EMAIL,
    ApiKeyInfo,
    Member,
    Page,
    PageRequest,
    Project,
    Role,
    Team,
    TeamMembership,
    User,
)
from tollgate_auth.errors import (
    AlreadyMember,
    BootstrapTeam,
    LastMember,
    LastOwner,
    MemberNotFound,
    SlugTaken,
    TeamNotFound,
)
from tollgate_auth.models import api_keys, memberships, projects, teams, users

T = TypeVar("T")


def _team(row: Row[Any]) -> Team:
    return Team(
        id=row.id,
        slug=row.slug,
        name=row.name,
        created_at=row.created_at,
        free_tier=bool(row.free_tier),
    )


def _member(row: Any) -> Member:
    return Member(
        user_id=row.user_id, email=row.email, role=Role(row.role), joined_at=row.created_at
    )


def _project(row: Row[Any]) -> Project:
    return Project(id=row.id, team_id=row.team_id, name=row.name, created_at=row.created_at)


def _api_key(row: Row[Any]) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        prefix=row.prefix,
        name=row.name,
        team_id=row.team_id,
        user_id=row.user_id,
        created_at=row.created_at,
        project_id=row.project_id,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


_MEMBER_COLUMNS = (
    memberships.c.user_id,
    users.c.email,
    memberships.c.role,
    memberships.c.created_at,
)


class TenancyRepository:
    """Teams, memberships, projects and API key listings in the auth database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # -- reads ----------------------------------------------------------------------------------

    async def user(self, user_id: str) -> User | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(users.c.id, users.c.email).where(users.c.id == user_id))
            ).first()
        return User(row.id, row.email) if row else None

    async def team(self, team_id: str) -> Team | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(teams).where(teams.c.id == team_id))).first()
        return _team(row) if row else None

    async def teams_of(self, user_id: str, page: PageRequest) -> Page[TeamMembership]:
        query = (
            select(teams, memberships.c.role)
            .join(memberships, memberships.c.team_id == teams.c.id)
            .where(memberships.c.user_id == user_id)
        )
        return await self._page(
            query, teams.c.id, page, lambda r: TeamMembership(_team(r), Role(r.role))
        )

    async def members(self, team_id: str, page: PageRequest) -> Page[Member]:
        query = (
            select(*_MEMBER_COLUMNS)
            .join(users, users.c.id == memberships.c.user_id)
            .where(memberships.c.team_id == team_id)
        )
        return await self._page(query, memberships.c.user_id, page, _member)

    async def member(self, team_id: str, user_id: str) -> Member | None:
        async with self._engine.connect() as conn:
            return await self._member(conn, team_id, user_id)

    async def projects(self, team_id: str, page: PageRequest) -> Page[Project]:
        query = select(projects).where(projects.c.team_id == team_id)
        return await self._page(query, projects.c.id, page, _project)

    async def project(self, team_id: str, project_id: str) -> Project | None:
        query = select(projects).where(
            (projects.c.id == project_id) & (projects.c.team_id == team_id)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _project(row) if row else None

    async def api_keys(
        self, team_id: str, user_id: str | None, include_revoked: bool, page: PageRequest
    ) -> Page[ApiKeyInfo]:
        """The team's keys (only ``user_id``'s when given), revoked ones only if asked."""
        query = select(api_keys).where(api_keys.c.team_id == team_id)
        if user_id is not None:
            query = query.where(api_keys.c.user_id == user_id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        return await self._page(query, api_keys.c.id, page, _api_key)

    async def api_key(self, key_id: str) -> ApiKeyInfo | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
        return _api_key(row) if row else None

    # -- teams ----------------------------------------------------------------------------------

    async def create_team(
        self, slug: str, name: str, owner_id: str, now: datetime, free_tiers_per_user: int
    ) -> Team:
        """Create the team with ``owner_id`` as its owner. It collects the free tier when its
        owner is an operator or has created fewer than ``free_tiers_per_user`` such teams
        (counted in the same transaction, so concurrent creations cannot both slip under)."""
        try:
            async with self._engine.begin() as conn:
                claimed = await conn.execute(
                    update(users)
                    .where(
                        (users.c.id == owner_id)
                        & (users.c.operator | (users.c.free_tiers < free_tiers_per_user))
                    )
                    .values(free_tiers=users.c.free_tiers + 1)
                )
                team = Team(
                    id=new_id("team"),
                    slug=slug,
                    name=name,
                    created_at=now,
                    free_tier=bool(claimed.rowcount),
                )
                await conn.execute(
                    insert(teams).values(
                        id=team.id, slug=slug, name=name, created_at=now, free_tier=team.free_tier
                    )
                )
                await conn.execute(
                    insert(memberships).values(
                        team_id=team.id, user_id=owner_id, role=Role.OWNER.value, created_at=now
                    )
                )
                await conn.execute(
                    update(users)
                    .where((users.c.id == owner_id) & users.c.default_team_id.is_(None))
                    .values(default_team_id=team.id)
                )
        except IntegrityError:
            raise SlugTaken(slug) from None
        return team

    async def update_team(self, team_id: str, slug: str | None, name: str | None) -> Team:
        values = {k: v for k, v in (("slug", slug), ("name", name)) if v is not None}
        try:
            async with self._engine.begin() as conn:
                if values:
                    await conn.execute(update(teams).where(teams.c.id == team_id).values(**values))
                row = (await conn.execute(select(teams).where(teams.c.id == team_id))).first()
        except IntegrityError:
            raise SlugTaken(slug or "") from None
        if row is None:
            raise TeamNotFound()
        return _team(row)

    async def delete_team(self, team_id: str) -> list[str]:
        """Delete the team with its memberships, projects and keys; returns the ids of the keys
        that still worked (they must be dropped from every cache)."""
        async with self._engine.begin() as conn:
            await _lock_team(conn, team_id)
            bootstrap = select(teams.c.bootstrap).where(teams.c.id == team_id)
            if (await conn.execute(bootstrap)).scalar():
                raise BootstrapTeam(
                    "the bootstrap team cannot be deleted: the bootstrap key and its operator "
                    "belong to it"
                )
            live = await self._live_keys(conn, api_keys.c.team_id == team_id)
            member_ids = list(
                (
                    await conn.execute(
                        select(memberships.c.user_id).where(memberships.c.team_id == team_id)
                    )
                ).scalars()
            )
            await conn.execute(delete(api_keys).where(api_keys.c.team_id == team_id))
            await conn.execute(delete(projects).where(projects.c.team_id == team_id))
            await conn.execute(delete(memberships).where(memberships.c.team_id == team_id))
            result = await conn.execute(delete(teams).where(teams.c.id == team_id))
            if not result.rowcount:
                raise TeamNotFound()
            for user_id in member_ids:
                await _reset_default_team(conn, user_id, team_id)
        return live

    # -- members --------------------------------------------------------------------------------

    async def add_member(self, team_id: str, email: str, role: Role, now: datetime) -> Member:
        """Add the user with ``email`` (created if unknown) to the team."""
        try:
            async with self._engine.begin() as conn:
                await _lock_team(conn, team_id)
                user_id = (
                    await conn.execute(select(users.c.id).where(users.c.email == email))
                ).scalar()
                if user_id is None:
                    user_id = new_id("user")
                    await conn.execute(
                        insert(users).values(
                            id=user_id, email=email, created_at=now, default_team_id=team_id
                        )
                    )
                elif await self._member(conn, team_id, user_id) is not None:
                    raise AlreadyMember()
                await conn.execute(
                    insert(memberships).values(
                        team_id=team_id, user_id=user_id, role=role.value, created_at=now
                    )
                )
                await conn.execute(
                    update(users)
                    .where((users.c.id == user_id) & users.c.default_team_id.is_(None))
                    .values(default_team_id=team_id)
                )
        except IntegrityError:
            raise AlreadyMember() from None
        return Member(user_id=user_id, email=email, role=role, joined_at=now)

    async def set_role(self, team_id: str, user_id: str, role: Role) -> tuple[Member, Role]:
        """Change a member's role; returns the member and their previous role."""
        async with self._engine.begin() as conn:
            await _lock_team(conn, team_id)
            current = await self._member(conn, team_id, user_id)
            if current is None:
                raise MemberNotFound()
            if role is not Role.OWNER and await _is_bootstrap_owner(conn, team_id, current):
                raise BootstrapTeam("the bootstrap user stays an owner of the bootstrap team")
            if (
                current.role is Role.OWNER
                and role is not Role.OWNER
                and await self._owners(conn, team_id) <= 1
            ):
                raise LastOwner(
                    "the last owner cannot be demoted; make another member an owner first"
                )
            await conn.execute(
                update(memberships)
                .where((memberships.c.team_id == team_id) & (memberships.c.user_id == user_id))
                .values(role=role.value)
            )
        return Member(current.user_id, current.email, role, current.joined_at), current.role

    async def remove_member(self, team_id: str, user_id: str, at: datetime) -> list[str]:
        """Remove a member and revoke their keys in the team; returns the revoked key ids."""
        async with self._engine.begin() as conn:
            await _lock_team(conn, team_id)
            current = await self._member(conn, team_id, user_id)
            if current is None:
                raise MemberNotFound()
            count = (
                await conn.execute(select(func.count()).where(memberships.c.team_id == team_id))
            ).scalar_one()
            if count <= 1:
                raise LastMember()
            if await _is_bootstrap_owner(conn, team_id, current):
                raise BootstrapTeam("the bootstrap user cannot leave or be removed from its team")
            if current.role is Role.OWNER and await self._owners(conn, team_id) <= 1:
                raise LastOwner(
                    "the last owner cannot leave or be removed; make another member an owner first"
                )
            where = (api_keys.c.team_id == team_id) & (api_keys.c.user_id == user_id)
            revoked = await self._live_keys(conn, where)
            await conn.execute(
                update(api_keys)
                .where(where & api_keys.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            await conn.execute(
                delete(memberships).where(
                    (memberships.c.team_id == team_id) & (memberships.c.user_id == user_id)
                )
            )
            await _reset_default_team(conn, user_id, team_id)
        return revoked

    # -- projects -------------------------------------------------------------------------------

    async def create_project(self, team_id: str, name: str, now: datetime) -> Project:
        project = Project(id=new_id("prj"), team_id=team_id, name=name, created_at=now)
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(projects).values(id=project.id, team_id=team_id, name=name, created_at=now)
            )
        return project

    async def delete_project(self, team_id: str, project_id: str, at: datetime) -> list[str] | None:
        """Delete the project and revoke the keys bound to it (returned); ``None``: no such
        project in this team."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(projects).where(
                    (projects.c.id == project_id) & (projects.c.team_id == team_id)
                )
            )
            if not result.rowcount:
                return None
            where = (api_keys.c.team_id == team_id) & (api_keys.c.project_id == project_id)
            revoked = await self._live_keys(conn, where)
            await conn.execute(
                update(api_keys)
                .where(where & api_keys.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return revoked

    # -- helpers --------------------------------------------------------------------------------

    async def _page(
        self,
        query: Select[Any],
        sort_key: Any,
        page: PageRequest,
        convert: Callable[[Row[Any]], T],
    ) -> Page[T]:
        if page.after:
            query = query.where(sort_key > page.after)
        query = query.order_by(sort_key).limit(page.limit + 1)
        async with self._engine.connect() as conn:
            rows: Sequence[Row[Any]] = (await conn.execute(query)).all()
        more = len(rows) > page.limit
        rows = rows[: page.limit]
        items = tuple(convert(row) for row in rows)
        next_after = str(getattr(rows[-1], sort_key.name)) if more and rows else ""
        return Page(items, next_after)

    @staticmethod
    async def _member(conn: AsyncConnection, team_id: str, user_id: str) -> Member | None:
        query = (
            select(*_MEMBER_COLUMNS)
            .join(users, users.c.id == memberships.c.user_id)
            .where((memberships.c.team_id == team_id) & (memberships.c.user_id == user_id))
        )
        row = (await conn.execute(query)).first()
        return _member(row) if row else None

    @staticmethod
    async def _owners(conn: AsyncConnection, team_id: str) -> int:
        query = select(func.count()).where(
            (memberships.c.team_id == team_id) & (memberships.c.role == Role.OWNER.value)
        )
        return int((await conn.execute(query)).scalar_one())

    @staticmethod
    async def _live_keys(conn: AsyncConnection, where: Any) -> list[str]:
        query = select(api_keys.c.id).where(where & api_keys.c.revoked_at.is_(None))
        return [str(key_id) for key_id in (await conn.execute(query)).scalars()]


async def _lock_team(conn: AsyncConnection, team_id: str) -> None:
    """Serialize changes to one team's members until this transaction ends."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT id FROM teams WHERE id = :id FOR UPDATE"), {"id": team_id})
    else:
        # SQLite: a write statement takes the database's write lock at once.
        await conn.execute(text("UPDATE teams SET name = name WHERE id = :id"), {"id": team_id})


async def _is_bootstrap_owner(conn: AsyncConnection, team_id: str, member: Member) -> bool:
    """Whether ``member`` is the bootstrap user in the bootstrap team (whose keys must keep
    working: see :class:`tollgate_auth.errors.BootstrapIdentity`)."""
    if member.email != BOOTSTRAP_EMAIL:
        return False
    query = select(teams.c.bootstrap).where(teams.c.id == team_id)
    return bool((await conn.execute(query)).scalar())


async def _reset_default_team(conn: AsyncConnection, user_id: str, gone_team_id: str) -> None:
    """A user whose default team they left gets another of their teams (or none)."""
    other = (
        select(memberships.c.team_id)
        .where((memberships.c.user_id == user_id) & (memberships.c.team_id != gone_team_id))
        .order_by(memberships.c.created_at, memberships.c.team_id)
        .limit(1)
        .scalar_subquery()
    )
    await conn.execute(
        update(users)
        .where((users.c.id == user_id) & (users.c.default_team_id == gone_team_id))
        .values(default_team_id=other)
    )
