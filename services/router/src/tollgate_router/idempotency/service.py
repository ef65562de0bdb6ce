"""The rules of ``Idempotency-Key``: the first request with a key claims it and runs; its
final answer is kept for the TTL; a repeat with the same fingerprint waits for it (bounded)
and gets it replayed; another fingerprint under the same key is refused. A request that fails
before its answer started (nothing charged) or whose stream was left unfinished keeps nothing:
its key is released and a retry runs again.

Answers are opaque bytes here (the servicer encodes them): the rules do not depend on what a
generation or an embedding looks like."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tollgate_common.errors import InvalidArgument

from tollgate_router.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from tollgate_router.idempotency.repository import DONE, IdempotencyRepository

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


MAX_KEY_LENGTH = 255
KEY_RULE = (
    f"the Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (no spaces)"
)


def valid_key(key: str) -> bool:
    """1 to 255 visible ASCII characters: what fits the column and a log line unescaped."""
    return 0 < len(key) <= MAX_KEY_LENGTH and all("!" <= ch <= "~" for ch in key)


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A client's key in its team, with the fingerprint of the request it came with: the
    operation (``generate``, ``embed``) and the edge's hash of the body, so the same key on
    another endpoint is another request too."""

    team_id: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, team_id: str, key: str, operation: str, body_hash: str) -> IdempotencyKey:
        """Raises InvalidArgument for a key the edge would have refused (defence in depth)."""
        if not valid_key(key):
            raise InvalidArgument(KEY_RULE, metadata={"param": "Idempotency-Key"})
        digest = hashlib.sha256(f"{operation}\n{body_hash}".encode()).hexdigest()
        return cls(team_id, key, digest)


@dataclass(frozen=True, slots=True)
class Replay:
    """The kept answer of the first request with this key."""

    answer: bytes


@dataclass(frozen=True, slots=True)
class Claim:
    """The right to run the request of ``key``; its answer is kept or the claim released."""

    key: IdempotencyKey
    owner: str


class Idempotency:
    """Claims, waits, keeps and replays through ``repository``. ``ttl``: seconds an answer is
    kept; ``wait``: seconds a repeat waits for a running first request; ``running``: seconds a
    claim holds without an answer (a router that died mid-request frees its keys then);
    ``poll``: seconds between looks at a running claim."""

    def __init__(
        self,
        repository: IdempotencyRepository,
        *,
        ttl: float,
        wait: float,
        running: float,
        poll: float = 0.1,
        clock: Clock = _now,
    ) -> None:
        self._repository = repository
        self._ttl = timedelta(seconds=ttl)
        self._wait = wait
        self._running = timedelta(seconds=running)
        self._poll = poll
        self._clock = clock
        # Work that outlives its caller: answers still being kept, claims being released.
        self._background: set[asyncio.Task[Any]] = set()

    async def claim(self, key: IdempotencyKey) -> Claim | Replay:
        """Claim ``key``, or the first request's answer once it has one; raises
        IdempotencyKeyReused for another request under the same key and IdempotencyKeyInUse
        when the first one is still running after the wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        owner = secrets.token_hex(16)
        vacant = True  # worth an INSERT: at first, and whenever the row is gone
        while True:
            now = self._clock()
            if vacant and await self._repository.insert(
                key.team_id, key.key, key.fingerprint, owner, now, now + self._running
            ):
                return Claim(key, owner)
            record = await self._repository.get(key.team_id, key.key, now)
            vacant = record is None
            if record is None:
                continue  # released or expired in between: claim it again
            if record.fingerprint != key.fingerprint:
                raise IdempotencyKeyReused()
            if record.status == DONE and record.answer is not None:
                return Replay(record.answer)
            if loop.time() >= deadline:
                raise IdempotencyKeyInUse(self._wait)
            await asyncio.sleep(min(self._poll, max(deadline - loop.time(), 0.0)))

    async def keep(self, claim: Claim, answer: bytes) -> None:
        """The claim's request has its final answer: replay it to repeats for the TTL. When the
        database refuses, the answer still goes out (it was served and charged) and the key is
        released: a retry then runs again rather than waiting for an answer never kept."""
        key = claim.key
        until = self._clock() + self._ttl
        try:
            await self._repository.keep(key.team_id, key.key, claim.owner, answer, until)
        except Exception:
            log.warning("keeping an answer under its idempotency key failed", exc_info=True)
            self.release(claim)

    async def run(self, claim: Claim, answer: Awaitable[bytes]) -> bytes:
        """Await ``answer`` and keep it, even if the caller goes away meanwhile (the request
        runs to its end and is charged, so its retry must find it); release the claim when it
        fails instead."""

        async def settle() -> bytes:
            try:
                result = await answer
            except BaseException:
                self.release(claim)
                raise
            await self.keep(claim, result)
            return result

        task = asyncio.create_task(settle(), name="idempotent-answer")
        self._hold(task)
        return await asyncio.shield(task)

    def release(self, claim: Claim) -> None:
        """Drop the claim in the background: its request ended without an answer to keep (the
        caller that is going away cannot wait for the write)."""
        self._hold(asyncio.create_task(self._release_now(claim), name="idempotency-release"))

    def _hold(self, task: asyncio.Task[Any]) -> None:
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_retrieved)

    async def _release_now(self, claim: Claim) -> None:
        key = claim.key
        await self._repository.release(key.team_id, key.key, claim.owner)

    async def sweep(self) -> int:
        """Delete the expired keys; how many."""
        return await self._repository.sweep(self._clock())

    async def sweep_forever(self, every: float) -> None:
        """Sweep every ``every`` seconds until cancelled (a failure is logged, not fatal)."""
        while True:
            try:
                swept = await self.sweep()
                if swept:
                    log.debug("swept %d expired idempotency keys", swept)
            except Exception:
                log.warning("sweeping expired idempotency keys failed", exc_info=True)
            await asyncio.sleep(every)


def _retrieved(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("idempotency background work failed", exc_info=task.exception())
