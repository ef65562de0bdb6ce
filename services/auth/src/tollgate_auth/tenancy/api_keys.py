"""The API keys of a team on behalf of a caller: list (an owner sees all, others their own),
create (the key is shown once), revoke (at once here, through ``key_revoked`` everywhere else)."""

from __future__ import annotations

from datetime import datetime

from tollgate_common.errors import InvalidArgument

from tollgate_auth.access.permissions import Action, require
from tollgate_auth.access.service import TeamAccess
from tollgate_auth.domain import (
    ApiKeyInfo,
    Clock,
    IssuedApiKey,
    Page,
    PageRequest,
    Principal,
    Role,
    utc_now,
)
from tollgate_auth.errors import ApiKeyNotFound, ProjectNotFound, TeamNotFound
from tollgate_auth.events import ActivityType, AuthEvents
from tollgate_auth.keys.cache import KeyCache
from tollgate_auth.keys.hashing import KeyHasher, mint_api_key
from tollgate_auth.keys.repository import AuthRepository
from tollgate_auth.tenancy.repository import TenancyRepository
from tollgate_auth.tenancy.validation import valid_name


class ApiKeyAdmin:
    def __init__(
        self,
        tenancy: TenancyRepository,
        keys: AuthRepository,
        access: TeamAccess,
        hasher: KeyHasher,
        cache: KeyCache,
        events: AuthEvents,
        clock: Clock = utc_now,
    ) -> None:
        self._tenancy = tenancy
        self._keys = keys
        self._access = access
        self._hasher = hasher
        self._cache = cache
        self._events = events
        self._clock = clock

    async def list_keys(
        self, caller: Principal, team_id: str, include_revoked: bool, page: PageRequest
    ) -> Page[ApiKeyInfo]:
        """An owner sees all of the team's keys; everyone else only their own."""
        team_id = team_id or caller.team_id
        role = await self._access.authorize(caller, team_id, Action.READ)
        only = None if role is Role.OWNER else caller.user_id
        return await self._tenancy.api_keys(team_id, only, include_revoked, page)

    async def create_key(
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
        role = await self._access.role_in(caller, team_id)
        own = user_id == caller.user_id
        require(role, Action.MANAGE_OWN_API_KEYS if own else Action.MANAGE_ANY_API_KEYS)
        name = valid_name(name)
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

    async def revoke_key(self, caller: Principal, key_id: str) -> None:
        """Revoke a key at once here and, through ``key_revoked``, in every other replica.
        Revoking a revoked key changes nothing."""
        key = await self._tenancy.api_key(key_id)
        if key is None:
            raise ApiKeyNotFound()
        try:
            role = await self._access.role_in(caller, key.team_id)
        except TeamNotFound:
            raise ApiKeyNotFound() from None
        own = key.user_id == caller.user_id
        require(role, Action.MANAGE_OWN_API_KEYS if own else Action.MANAGE_ANY_API_KEYS)
        now = self._clock()
        if not await self._keys.revoke_key(key_id, now):
            return
        self.revoked([key_id], key.team_id, "revoked", now)
        self._events.activity(
            caller,
            key.team_id,
            ActivityType.API_KEY_REVOKED,
            ("api-key", key_id),
            {"name": key.name, "prefix": key.prefix},
            project_id=key.project_id or "",
            at=now,
        )

    def revoked(self, key_ids: list[str], team_id: str, reason: str, at: datetime) -> None:
        """Drop revoked keys from this replica's cache and tell the other replicas."""
        for key_id in key_ids:
            self._cache.invalidate_key(key_id)
            self._events.key_revoked(key_id, team_id, reason, at)
