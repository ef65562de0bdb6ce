"""Teams, members, projects and API keys on behalf of a caller (docs/admin-api.md).

Every method first finds the caller's role in the team concerned — none: that team and
everything in it is "not found" — then asks :mod:`tollgate_auth.permissions`, then changes
things, then publishes what changed (activity; revocations for the key caches).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from tollgate_common.errors import InvalidArgument

from tollgate_auth.access import TeamAccess
from tollgate_auth.cache import KeyCache
from tollgate_auth.domain import (
    ApiKeyInfo,
    AuthMethod,
    IssuedApiKey,
    Member,
    Page,
    PageRequest,
    Principal,
    Project,
    Role,
    TeamMembership,
    User,
)
from tollgate_auth.errors import (
    ApiKeyNotFound,
    MemberNotFound,
    ProjectNotFound,
    TeamNotFound,
)
from tollgate_auth.events import ActivityType, AuthEvents
from tollgate_auth.keys import KeyHasher, mint_api_key
from tollgate_auth.permissions import Action, require
from tollgate_auth.repository import AuthRepository
from tollgate_auth.tenancy_repository import TenancyRepository

SLUG: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
EMAIL: Final = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
MAX_NAME: Final = 200

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _name(value: str, param: str = "name") -> str:
    name = value.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InvalidArgument(
            f"`{param}` must be 1 to {MAX_NAME} printable characters", metadata={"param": param}
        )
    return name


def _slug(value: str) -> str:
    if not SLUG.fullmatch(value):
        raise InvalidArgument(
            "`slug` must be 1 to 64 lower-case letters, digits and inner hyphens",
            metadata={"param": "slug"},
        )
    return value


def _email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 320 or not EMAIL.fullmatch(email):
        raise InvalidArgument("`email` is not an email address", metadata={"param": "email"})
    return email


def _role(value: Role | None) -> Role:
    if value is None:
        raise InvalidArgument(
            "`role` must be one of owner, member, viewer", metadata={"param": "role"}
        )
    return value


@dataclass(frozen=True, slots=True)
class Me:
    user: User | None  # None for an OIDC project token: it acts for no user
    team: TeamMembership
    principal: Principal


class AdminService:
    def __init__(
        self,
        tenancy: TenancyRepository,
        keys: AuthRepository,
        hasher: KeyHasher,
        cache: KeyCache,
        events: AuthEvents,
        clock: Clock = _now,
    ) -> None:
        self._tenancy = tenancy
        self._keys = keys
        self._access = TeamAccess(keys)
        self._hasher = hasher
        self._cache = cache
        self._events = events
        self._clock = clock

    async def _role_in(self, caller: Principal, team_id: str) -> Role:
        return await self._access.role_in(caller, team_id)

    async def _authorize(self, caller: Principal, team_id: str, action: Action) -> Role:
        return await self._access.authorize(caller, team_id, action)

    async def _team(self, caller: Principal, team_id: str) -> TeamMembership:
        role = await self._authorize(caller, team_id, Action.READ)
        team = await self._tenancy.team(team_id)
        if team is None:
            raise TeamNotFound()
        return TeamMembership(team, role)

    # -- me and teams -------------------------------------------------------------------------

    async def me(self, caller: Principal) -> Me:
        if caller.auth_method is AuthMethod.OIDC:
            team = await self._tenancy.team(caller.team_id)
            if team is None:
                raise TeamNotFound()
            return Me(None, TeamMembership(team, Role.MEMBER), caller)
        user = await self._tenancy.user(caller.user_id)
        if user is None:
            raise TeamNotFound()
        return Me(user, await self._team(caller, caller.team_id), caller)

    async def list_teams(self, caller: Principal, page: PageRequest) -> Page[TeamMembership]:
        return await self._tenancy.teams_of(caller.user_id, page)

    async def create_team(self, caller: Principal, slug: str, name: str) -> TeamMembership:
        # A read-only credential creates nothing, not even a team of its own.
        await self._authorize(caller, caller.team_id, Action.CREATE_TEAM)
        team = await self._tenancy.create_team(
            _slug(slug), _name(name), caller.user_id, self._clock()
        )
        self._events.activity(
            caller, team.id, ActivityType.TEAM_CREATED, ("team", team.id), {"slug": team.slug}
        )
        return TeamMembership(team, Role.OWNER)

    async def get_team(self, caller: Principal, team_id: str) -> TeamMembership:
        return await self._team(caller, team_id)

    async def update_team(
        self, caller: Principal, team_id: str, slug: str | None, name: str | None
    ) -> TeamMembership:
        role = await self._authorize(caller, team_id, Action.UPDATE_TEAM)
        slug = _slug(slug) if slug is not None else None
        name = _name(name) if name is not None else None
        before = await self._tenancy.team(team_id)
        team = await self._tenancy.update_team(team_id, slug, name)
        if before is not None and before.slug != team.slug:
            # Cached identities carry the slug (x-tollgate-team-slug): drop the team's.
            self._cache.invalidate_member(team_id, "")
            self._events.membership_changed(team_id, "", self._clock())
            self._events.activity(
                caller,
                team_id,
                ActivityType.TEAM_SLUG_UPDATE,
                ("team", team_id),
                {"from": before.slug, "to": team.slug},
            )
        if before is not None and before.name != team.name:
            self._events.activity(
                caller,
                team_id,
                ActivityType.TEAM_NAME_UPDATE,
                ("team", team_id),
                {"from": before.name, "to": team.name},
            )
        return TeamMembership(team, role)

    async def delete_team(self, caller: Principal, team_id: str) -> None:
        await self._authorize(caller, team_id, Action.DELETE_TEAM)
        removed_keys = await self._tenancy.delete_team(team_id)
        now = self._clock()
        self._revoked(removed_keys, team_id, "team-deleted", now)
        self._events.byok_changed(team_id, "", now)
        self._events.activity(caller, team_id, ActivityType.TEAM_DELETE, ("team", team_id), at=now)

    # -- members ------------------------------------------------------------------------------

    async def list_members(
        self, caller: Principal, team_id: str, page: PageRequest
    ) -> Page[Member]:
        await self._authorize(caller, team_id, Action.READ)
        return await self._tenancy.members(team_id, page)

    async def add_member(
        self, caller: Principal, team_id: str, email: str, role: Role | None
    ) -> Member:
        await self._authorize(caller, team_id, Action.MANAGE_MEMBERS)
        member = await self._tenancy.add_member(team_id, _email(email), _role(role), self._clock())
        self._events.activity(
            caller,
            team_id,
            ActivityType.TEAM_MEMBER_ADD,
            ("user", member.user_id),
            {"email": member.email, "role": member.role.value},
        )
        return member

    async def update_member(
        self, caller: Principal, team_id: str, user_id: str, role: Role | None
    ) -> Member:
        await self._authorize(caller, team_id, Action.MANAGE_MEMBERS)
        member, previous = await self._tenancy.set_role(team_id, user_id, _role(role))
        if previous is not member.role:
            now = self._clock()
            self._cache.invalidate_member(team_id, user_id)
            self._events.membership_changed(team_id, user_id, now)
            self._events.activity(
                caller,
                team_id,
                ActivityType.TEAM_MEMBER_ROLE_UPDATE,
                ("user", user_id),
                {"from": previous.value, "to": member.role.value},
                at=now,
            )
        return member

    async def remove_member(self, caller: Principal, team_id: str, user_id: str) -> None:
        """Remove a member; removing oneself is leaving (any role may leave)."""
        role = await self._role_in(caller, team_id)
        leaving = user_id == caller.user_id
        if not leaving:
            require(role, Action.MANAGE_MEMBERS)
            if await self._tenancy.member(team_id, user_id) is None:
                raise MemberNotFound()
        now = self._clock()
        revoked = await self._tenancy.remove_member(team_id, user_id, now)
        self._cache.invalidate_member(team_id, user_id)
        self._events.membership_changed(team_id, user_id, now)
        self._revoked(revoked, team_id, "member-removed", now)
        kind = ActivityType.TEAM_MEMBER_LEAVE if leaving else ActivityType.TEAM_MEMBER_DELETE
        self._events.activity(caller, team_id, kind, ("user", user_id), at=now)

    # -- projects -----------------------------------------------------------------------------

    async def list_projects(
        self, caller: Principal, team_id: str, page: PageRequest
    ) -> Page[Project]:
        await self._authorize(caller, team_id, Action.READ)
        return await self._tenancy.projects(team_id, page)

    async def create_project(self, caller: Principal, team_id: str, name: str) -> Project:
        await self._authorize(caller, team_id, Action.MANAGE_PROJECTS)
        project = await self._tenancy.create_project(team_id, _name(name), self._clock())
        self._events.activity(
            caller,
            team_id,
            ActivityType.PROJECT_CREATED,
            ("project", project.id),
            {"name": project.name},
            project_id=project.id,
        )
        return project

    async def delete_project(self, caller: Principal, team_id: str, project_id: str) -> None:
        await self._authorize(caller, team_id, Action.MANAGE_PROJECTS)
        now = self._clock()
        revoked = await self._tenancy.delete_project(team_id, project_id, now)
        if revoked is None:
            raise ProjectNotFound()
        self._revoked(revoked, team_id, "project-deleted", now)
        self._events.activity(
            caller,
            team_id,
            ActivityType.PROJECT_DELETE,
            ("project", project_id),
            project_id=project_id,
            at=now,
        )

    # -- API keys -----------------------------------------------------------------------------

    async def list_api_keys(
        self, caller: Principal, team_id: str, include_revoked: bool, page: PageRequest
    ) -> Page[ApiKeyInfo]:
        """An owner sees all of the team's keys; everyone else only their own."""
        team_id = team_id or caller.team_id
        role = await self._authorize(caller, team_id, Action.READ)
        only = None if role is Role.OWNER else caller.user_id
        return await self._tenancy.api_keys(team_id, only, include_revoked, page)

    async def create_api_key(
        self,
        caller: Principal,
        name: str,
        *,
        team_id: str = "",
        project_id: str = "",
        user_id: str = "",
        expires_at: datetime | None = None,
    ) -> IssuedApiKey:
        team_id = team_id or caller.team_id
        user_id = user_id or caller.user_id
        role = await self._role_in(caller, team_id)
        own = user_id == caller.user_id
        require(role, Action.MANAGE_OWN_API_KEYS if own else Action.MANAGE_ANY_API_KEYS)
        name = _name(name)
        if not own and await self._keys.membership_role(team_id, user_id) is None:
            raise InvalidArgument(
                "`userId` is not a member of the team", metadata={"param": "userId"}
            )
        if project_id and await self._tenancy.project(team_id, project_id) is None:
            raise ProjectNotFound()
        now = self._clock()
        if expires_at is not None and expires_at <= now:
            raise InvalidArgument(
                "`expiresAt` must be in the future", metadata={"param": "expiresAt"}
            )
        new, key = mint_api_key(
            self._hasher,
            team_id=team_id,
            user_id=user_id,
            name=name,
            created_at=now,
            project_id=project_id or None,
            expires_at=expires_at,
        )
        await self._keys.insert_api_key(new)
        self._events.activity(
            caller,
            team_id,
            ActivityType.API_KEY_CREATED,
            ("api-key", new.key_id),
            {"name": name, "prefix": new.prefix, "forUserId": user_id},
            project_id=project_id,
            at=now,
        )
        info = ApiKeyInfo(
            id=new.key_id,
            prefix=new.prefix,
            name=name,
            team_id=team_id,
            user_id=user_id,
            created_at=now,
            project_id=new.project_id,
            expires_at=expires_at,
        )
        return IssuedApiKey(info, key)

    async def revoke_api_key(self, caller: Principal, key_id: str) -> None:
        """Revoke a key at once here and, through ``key_revoked``, in every other replica.
        Revoking a revoked key changes nothing."""
        key = await self._tenancy.api_key(key_id)
        if key is None:
            raise ApiKeyNotFound()
        try:
            role = await self._role_in(caller, key.team_id)
        except TeamNotFound:
            raise ApiKeyNotFound() from None
        own = key.user_id == caller.user_id
        require(role, Action.MANAGE_OWN_API_KEYS if own else Action.MANAGE_ANY_API_KEYS)
        now = self._clock()
        if not await self._keys.revoke_key(key_id, now):
            return
        self._revoked([key_id], key.team_id, "revoked", now)
        self._events.activity(
            caller,
            key.team_id,
            ActivityType.API_KEY_REVOKED,
            ("api-key", key_id),
            {"name": key.name, "prefix": key.prefix},
            project_id=key.project_id or "",
            at=now,
        )

    def _revoked(self, key_ids: list[str], team_id: str, reason: str, at: datetime) -> None:
        for key_id in key_ids:
            self._cache.invalidate_key(key_id)
            self._events.key_revoked(key_id, team_id, reason, at)
