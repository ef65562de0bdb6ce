"""The rules of kept responses: an id is ``resp_`` + up to 64 safe characters, a response and
its input are bounded in size, a response is kept for the retention from when it was stored,
and it is only ever seen by the team that stored it (another team's id is NOT_FOUND, as an
unknown one is)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from tollgate_common.errors import InvalidArgument, NotFound

from tollgate_router.stored_responses.repository import Kept, StoredResponseRepository

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

_ID: Final = re.compile(r"^resp_[A-Za-z0-9_-]{1,64}$")
# The edge bounds request bodies well below this; a kept response larger than it is refused.
MAX_JSON_BYTES: Final = 64 * 1024 * 1024


def _now() -> datetime:
    return datetime.now(UTC)


def _not_found(response_id: str) -> NotFound:
    return NotFound(f"no response with id {response_id[:80]!r}", metadata={"param": "id"})


class StoredResponses:
    def __init__(
        self,
        repository: StoredResponseRepository,
        *,
        retention_seconds: float,
        clock: Clock = _now,
    ) -> None:
        self._repository = repository
        self._retention = timedelta(seconds=retention_seconds)
        self._clock = clock

    async def store(
        self, team_id: str, response_id: str, response_json: str, input_json: str
    ) -> datetime:
        """Keep the response for the team; when it expires."""
        if not team_id:
            raise InvalidArgument("a stored response needs the caller's team")
        if not _ID.match(response_id):
            raise InvalidArgument("a response id is `resp_` and 1 to 64 letters or digits")
        if len(response_json) + len(input_json) > MAX_JSON_BYTES:
            raise InvalidArgument("the response is too large to store")
        now = self._clock()
        expires = now + self._retention
        await self._repository.put(
            team_id, Kept(response_id, response_json, input_json, now, expires)
        )
        return expires

    async def get(self, team_id: str, response_id: str) -> Kept:
        kept = None
        if team_id and _ID.match(response_id):
            kept = await self._repository.get(team_id, response_id, self._clock())
        if kept is None:
            raise _not_found(response_id)
        return kept

    async def delete(self, team_id: str, response_id: str) -> None:
        deleted = False
        if team_id and _ID.match(response_id):
            deleted = await self._repository.delete(team_id, response_id, self._clock())
        if not deleted:
            raise _not_found(response_id)

    async def sweep(self) -> int:
        return await self._repository.sweep(self._clock())

    async def sweep_forever(self, every: float) -> None:
        """Delete expired responses every ``every`` seconds until cancelled (a failure is
        logged, not fatal)."""
        while True:
            try:
                swept = await self.sweep()
                if swept:
                    log.debug("swept %d expired stored responses", swept)
            except Exception:
                log.warning("sweeping expired stored responses failed", exc_info=True)
            await asyncio.sleep(every)
