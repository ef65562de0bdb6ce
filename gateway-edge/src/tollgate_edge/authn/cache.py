"""The edge's identity cache: credential digest → the caller auth established, or its refusal.

Owned by the :class:`~tollgate_edge.authn.gate.Authenticator` (one per process) and touched
only from the event loop. Entries are keyed by a keyed hash of the credential, never the
credential itself.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from tollgate_edge.identity import Caller

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Auth refused the credential (401): its message and OpenAI ``code``."""

    message: str
    code: str


@dataclass(slots=True)
class _Entry:
    found: Caller | Refusal
    expires: float
    stored: float


class IdentityCache:
    """Known credentials for ``ttl`` seconds (never past the credential's own expiry); refused
    ones for ``negative_ttl`` seconds.

    Known and refused credentials live in separate bounded maps, so a flood of made-up keys
    pushes out only other refusals. When a map is full the oldest entry goes.

    For ``settle`` seconds after an invalidation, what is learnt is kept ``settle`` seconds at
    most: an auth replica may answer from what it held before the same fact reached it (or
    from its one-second cache of a token's project), and such an answer must not last.
    """

    def __init__(
        self,
        ttl: float = 120.0,
        negative_ttl: float = 2.0,
        max_entries: int = 100_000,
        max_negative_entries: int = 10_000,
        settle: float = 2.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._settle = settle
        self._unsettled_until = float("-inf")
        self._negative_ttl = negative_ttl
        self._max = max_entries
        self._max_negative = min(max_negative_entries, max_entries)
        self._clock = clock
        self._known: OrderedDict[bytes, _Entry] = OrderedDict()
        self._refused: OrderedDict[bytes, _Entry] = OrderedDict()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Changes whenever entries are invalidated; see :meth:`put`."""
        return self._generation

    def get(self, digest: bytes, max_age: float | None = None) -> Caller | Refusal | None:
        """The cached answer, or ``None`` on a miss (absent, expired, or a known caller older
        than ``max_age`` seconds when given: while revocation facts may be missed)."""
        store = self._known
        entry = store.get(digest)
        if entry is None:
            store = self._refused
            entry = store.get(digest)
            if entry is None:
                return None
        now = self._clock()
        if entry.expires <= now:
            del store[digest]
            return None
        if max_age is not None and store is self._known and now - entry.stored > max_age:
            return None
        return entry.found

    def put(
        self,
        digest: bytes,
        found: Caller | Refusal,
        generation: int,
        lifetime: float | None = None,
    ) -> None:
        """Remember auth's answer. ``generation`` is :attr:`generation` as read before asking:
        an answer that raced with an invalidation is dropped instead of resurrecting a revoked
        caller. ``lifetime``: seconds until the credential expires by itself."""
        if generation != self._generation:
            return
        if isinstance(found, Refusal):
            if self._negative_ttl > 0:
                self._store(self._refused, self._max_negative, digest, found, self._negative_ttl)
            return
        ttl = self._ttl if lifetime is None else min(self._ttl, lifetime)
        if self._clock() < self._unsettled_until:
            ttl = min(ttl, self._settle)
        if ttl <= 0:
            return
        self._refused.pop(digest, None)
        self._store(self._known, self._max, digest, found, ttl)

    def _store(
        self,
        store: OrderedDict[bytes, _Entry],
        limit: int,
        digest: bytes,
        found: Caller | Refusal,
        ttl: float,
    ) -> None:
        store.pop(digest, None)
        now = self._clock()
        store[digest] = _Entry(found, now + ttl, now)
        while len(store) > limit:
            store.popitem(last=False)

    def _invalidated(self) -> None:
        self._generation += 1
        self._unsettled_until = self._clock() + self._settle

    def _drop(self, stale: Callable[[Caller], bool]) -> int:
        self._invalidated()
        doomed = [
            digest
            for digest, entry in self._known.items()
            if isinstance(entry.found, Caller) and stale(entry.found)
        ]
        for digest in doomed:
            del self._known[digest]
        return len(doomed)

    def invalidate_key(self, key_id: str) -> int:
        """Forget key ``key_id`` (revoked); returns how many entries went."""
        return self._drop(lambda caller: caller.key_id == key_id)

    def invalidate_member(self, team_id: str, user_id: str) -> int:
        """Forget ``user_id``'s identities in ``team_id``; an empty ``user_id`` means the whole
        team (slug changed, team, project or issuer removed: its OIDC tokens name no key), an
        empty ``team_id`` every team of the user (made or no longer an operator)."""
        return self._drop(
            lambda caller: (
                (not team_id or caller.team_id == team_id)
                and (not user_id or caller.user_id == user_id)
            )
        )

    def clear(self) -> None:
        self._invalidated()
        self._known.clear()
        self._refused.clear()

    def __len__(self) -> int:
        return len(self._known) + len(self._refused)
