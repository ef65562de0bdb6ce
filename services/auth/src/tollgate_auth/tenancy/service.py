"""Teams, members and projects on behalf of a caller (docs/admin-api.md); their API keys are
:mod:`tollgate_auth.tenancy.api_keys`.

Every method first finds the caller's role in the team concerned — none: that team and
everything in it is "not found" — then asks :mod:`tollgate_auth.access.permissions`, then changes
things, then publishes what changed (activity; revocations for the key caches).
"""

from __future__ import annotations

from dataclasses import dataclass

from tollgate_auth.access.permissions import Action, require
from tollgate_auth.access.service import TeamAccess
from tollgate_auth.domain import (
    AuthMethod,
    Clock,
    Member,
    Page,
    PageRequest,
    Principal,
    Project,
    Role,
    TeamMembership,
    User,
    utc_now,
)
from tollgate_auth.errors import MemberNotFound, ProjectNotFound, TeamNotFound
from tollgate_auth.events import ActivityType, AuthEvents
from tollgate_auth.keys.cache import KeyCache
from tollgate_auth.keys.hashing import KeyHasher
from tollgate_auth.keys.repository import AuthRepository
from tollgate_auth.tenancy.api_keys import ApiKeyAdmin
from tollgate_auth.tenancy.repository import TenancyRepository
from tollgate_auth.tenancy.validation import valid_email, valid_name, valid_role, valid_slug


@dataclass(frozen=True, slots=True)
class Me:
    user: User | None  # None for an OIDC project token: it acts for no user
    team: TeamMembership
    principal: Principal
    operator: bool = False


class AdminService:
    def __init__(
        self,
        tenancy: TenancyRepository,
        keys: AuthRepository,
        hasher: KeyHasher,
        cache: KeyCache,
        events: AuthEvents,
        clock: Clock = utc_now,
        *,
        free_tiers_per_user: int = 1,
    ) -> None:
        self._tenancy = tenancy
        self._keys = keys
        self._free_tiers_per_user = free_tiers_per_user
        self._access = TeamAccess(keys)
        self._cache = cache
        self._events = events
        self._clock = clock
        self._api_keys = ApiKeyAdmin(tenancy, keys, self._access, hasher, cache, events, clock)

    @property
    def api_keys(self) -> ApiKeyAdmin:
        """The team's API keys, administered under the same access rules and clock."""
        return self._api_keys

    async def _team(self, caller: Principal, team_id: str) -> TeamMembership:
        role = await self._access.authorize(caller, team_id, Action.READ)
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
        operator = await self._keys.is_operator(caller.user_id)
        return Me(user, await self._team(caller, caller.team_id), caller, operator)

    async def list_teams(self, caller: Principal, page: PageRequest) -> Page[TeamMembership]:
        return await self._tenancy.teams_of(caller.user_id, page)

    async def create_team(self, caller: Principal, slug: str, name: str) -> TeamMembership:
        # A read-only credential creates nothing, not even a team of its own.
        await self._access.authorize(caller, caller.team_id, Action.CREATE_TEAM)
        team = await self._tenancy.create_team(
            valid_slug(slug),
            valid_name(name),
            caller.user_id,
            self._clock(),
            self._free_tiers_per_user,
        )
        details = {"slug": team.slug, "freeTier": "true" if team.free_tier else "false"}
        self._events.activity(
            caller, team.id, ActivityType.TEAM_CREATED, ("team", team.id), details
        )
        return TeamMembership(team, Role.OWNER)

    async def get_team(self, caller: Principal, team_id: str) -> TeamMembership:
        return await self._team(caller, team_id)

    async def update_team(
        self, caller: Principal, team_id: str, slug: str | None, name: str | None
    ) -> TeamMembership:
        role = await self._access.authorize(caller, team_id, Action.UPDATE_TEAM)
        slug = valid_slug(slug) if slug is not None else None
        name = valid_name(name) if name is not None else None
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
        await self._access.authorize(caller, team_id, Action.DELETE_TEAM)
        removed_keys = await self._tenancy.delete_team(team_id)
        now = self._clock()
        self._api_keys.revoked(removed_keys, team_id, "team-deleted", now)
        # Its OIDC tokens name no key: the edge's identity cache drops the whole team.
        self._events.membership_changed(team_id, "", now)
        self._events.byok_changed(team_id, "", now)
        self._events.activity(caller, team_id, ActivityType.TEAM_DELETE, ("team", team_id), at=now)

    # -- members ------------------------------------------------------------------------------

    async def list_members(
        self, caller: Principal, team_id: str, page: PageRequest
    ) -> Page[Member]:
        await self._access.authorize(caller, team_id, Action.READ)
        return await self._tenancy.members(team_id, page)

    async def add_member(
        self, caller: Principal, team_id: str, email: str, role: Role | None
    ) -> Member:
        await self._access.authorize(caller, team_id, Action.MANAGE_MEMBERS)
        member = await self._tenancy.add_member(
            team_id, valid_email(email), valid_role(role), self._clock()
        )
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
        await self._access.authorize(caller, team_id, Action.MANAGE_MEMBERS)
        member, previous = await self._tenancy.set_role(team_id, user_id, valid_role(role))
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
        role = await self._access.role_in(caller, team_id)
        leaving = user_id == caller.user_id
        if not leaving:
            require(role, Action.MANAGE_MEMBERS)
            if await self._tenancy.member(team_id, user_id) is None:
                raise MemberNotFound()
        now = self._clock()
        revoked = await self._tenancy.remove_member(team_id, user_id, now)
        self._cache.invalidate_member(team_id, user_id)
        self._events.membership_changed(team_id, user_id, now)
        self._api_keys.revoked(revoked, team_id, "member-removed", now)
        kind = ActivityType.TEAM_MEMBER_LEAVE if leaving else ActivityType.TEAM_MEMBER_DELETE
        self._events.activity(caller, team_id, kind, ("user", user_id), at=now)

    # -- projects -----------------------------------------------------------------------------

    async def list_projects(
        self, caller: Principal, team_id: str, page: PageRequest
    ) -> Page[Project]:
        await self._access.authorize(caller, team_id, Action.READ)
        return await self._tenancy.projects(team_id, page)

    async def create_project(self, caller: Principal, team_id: str, name: str) -> Project:
        await self._access.authorize(caller, team_id, Action.MANAGE_PROJECTS)
        project = await self._tenancy.create_project(team_id, valid_name(name), self._clock())
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
        await self._access.authorize(caller, team_id, Action.MANAGE_PROJECTS)
        now = self._clock()
        revoked = await self._tenancy.delete_project(team_id, project_id, now)
        if revoked is None:
            raise ProjectNotFound()
        self._api_keys.revoked(revoked, team_id, "project-deleted", now)
        # Tokens for the project name no key: the edge's identity cache drops the team's.
        self._events.membership_changed(team_id, "", now)
        self._events.activity(
            caller,
            team_id,
            ActivityType.PROJECT_DELETE,
            ("project", project_id),
            project_id=project_id,
            at=now,
        )
