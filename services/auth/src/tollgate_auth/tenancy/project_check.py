"""Whether a token's project (and so its team) still exists: asked of the database at most once
per ``ttl`` seconds per project, so a deleted project's tokens stop within that time."""

from __future__ import annotations

import time
from typing import Final

from tollgate_auth.errors import InvalidToken
from tollgate_auth.tenancy.repository import TenancyRepository

_MAX_ENTRIES: Final = 100_000


class ProjectCheck:
    def __init__(self, tenancy: TenancyRepository, ttl: float = 1.0) -> None:
        self._tenancy = tenancy
        self._ttl = ttl
        self._until: dict[tuple[str, str], float] = {}

    async def require(self, team_id: str, project_id: str) -> None:
        """Raise :class:`InvalidToken` unless the project exists in the team."""
        now = time.monotonic()
        if self._until.get((team_id, project_id), 0.0) > now:
            return
        if await self._tenancy.project(team_id, project_id) is None:
            self._until.pop((team_id, project_id), None)
            raise InvalidToken()
        if len(self._until) >= _MAX_ENTRIES:
            self._until.clear()
        self._until[(team_id, project_id)] = now + self._ttl
