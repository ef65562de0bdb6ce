"""The caller's role in a team, and the permission check on it: the first step of every admin
call (a team the caller's user is not in does not exist for them); and whether the caller is an
operator, for the installation-wide actions."""

from __future__ import annotations

from tollgate_auth.access.permissions import Action, require, require_operator
from tollgate_auth.domain import Principal, Role
from tollgate_auth.errors import TeamNotFound
from tollgate_auth.keys.repository import AuthRepository


class TeamAccess:
    def __init__(self, repository: AuthRepository) -> None:
        self._repository = repository

    async def role_in(self, caller: Principal, team_id: str) -> Role:
        """The caller's user's role in the team, from the database; 404 if none."""
        role = await self._repository.membership_role(team_id, caller.user_id) if team_id else None
        if role is None:
            raise TeamNotFound()
        return role

    async def authorize(self, caller: Principal, team_id: str, action: Action) -> Role:
        role = await self.role_in(caller, team_id)
        require(role, action)
        return role

    async def require_operator(self, caller: Principal, action: Action) -> None:
        """403 unless the caller's user is an operator, read from the database (never what the
        key's cache or headers claim: a demotion applies at once)."""
        operator = bool(caller.user_id) and await self._repository.is_operator(caller.user_id)
        require_operator(operator, action)
