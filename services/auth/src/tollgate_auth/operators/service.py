"""Operators on behalf of a caller who must be one (read from the database on every call), and
the check before credit is granted to a team."""

from __future__ import annotations

from tollgate_auth.access.permissions import Action
from tollgate_auth.access.service import TeamAccess
from tollgate_auth.domain import Clock, Operator, Principal, utc_now
from tollgate_auth.errors import TeamNotFound
from tollgate_auth.events import ActivityType, AuthEvents
from tollgate_auth.keys.cache import KeyCache
from tollgate_auth.operators.repository import OperatorRepository


class OperatorAdmin:
    def __init__(
        self,
        repository: OperatorRepository,
        access: TeamAccess,
        cache: KeyCache,
        events: AuthEvents,
        clock: Clock = utc_now,
    ) -> None:
        self._repository = repository
        self._access = access
        self._cache = cache
        self._events = events
        self._clock = clock

    async def list_operators(self, caller: Principal) -> list[Operator]:
        await self._access.require_operator(caller, Action.MANAGE_OPERATORS)
        return await self._repository.operators()

    async def set_operator(
        self, caller: Principal, user_id: str, operator: bool
    ) -> tuple[Operator, bool]:
        """Promote (``operator``) or demote a user; returns the user and whether it changed
        anything (repeating either changes nothing)."""
        await self._access.require_operator(caller, Action.MANAGE_OPERATORS)
        target, changed = await self._repository.set_operator(user_id, operator)
        if changed:
            now = self._clock()
            # Every replica drops the user's cached keys: the privilege they carry changed.
            self._cache.invalidate_member("", user_id)
            self._events.membership_changed("", user_id, now)
            kind = ActivityType.OPERATOR_ADDED if operator else ActivityType.OPERATOR_REMOVED
            self._events.activity(
                caller, caller.team_id, kind, ("user", user_id), {"email": target.email}, at=now
            )
        return target, changed

    async def authorize_credit_grant(self, caller: Principal, team_id: str) -> str:
        """The team credit may be granted to (``team_id``, else the caller's): 403 unless the
        caller is an operator, 404 when the team does not exist."""
        await self._access.require_operator(caller, Action.TOP_UP_CREDITS)
        team_id = team_id or caller.team_id
        if not await self._repository.team_exists(team_id):
            raise TeamNotFound()
        return team_id
