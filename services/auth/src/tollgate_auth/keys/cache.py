"""In-process state of the hot path: the key lookup cache and the last-used tracker.

Both are owned by the app (one instance per process) and touched only from the event loop.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from tollgate_auth.domain import KeyRecord

Clock = Callable[[], float]


@dataclass(slots=True)
class CachedLookup:
    """What the database said about a key hash: its record, or ``None`` (unknown)."""

    record: KeyRecord | None
    expires: float
    stored: float = 0.0


class KeyCache:
    """key hash → :class:`KeyRecord` for ``ttl`` seconds; unknown hashes for ``negative_ttl``.

    Known and unknown keys live in separate bounded maps, so a flood of made-up keys can push
    out only other unknown keys. When a map is full the oldest entry goes.
    """

    def __init__(
        self,
        ttl: float = 30.0,
        negative_ttl: float = 1.0,
        max_entries: int = 100_000,
        max_negative_entries: int = 10_000,
        clock: Clock = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._max = max_entries
        self._max_negative = min(max_negative_entries, max_entries)
        self._clock = clock
        self._known: OrderedDict[str, CachedLookup] = OrderedDict()
        self._unknown: OrderedDict[str, CachedLookup] = OrderedDict()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Changes whenever entries are invalidated; see :meth:`put`."""
        return self._generation

    def get(self, key_hash: str, max_age: float | None = None) -> CachedLookup | None:
        """The cached lookup, or ``None`` on a miss (absent or expired, or older than
        ``max_age`` seconds when given: while revocations may be missed)."""
        entry = self._known.get(key_hash)
        store = self._known
        if entry is None:
            entry = self._unknown.get(key_hash)
            store = self._unknown
            if entry is None:
                return None
        now = self._clock()
        if entry.expires <= now:
            del store[key_hash]
            return None
        if max_age is not None and now - entry.stored > max_age:
            return None
        return entry

    def put(self, key_hash: str, record: KeyRecord | None, generation: int | None = None) -> None:
        """Remember a lookup. With ``generation`` (read before the lookup started), a lookup
        that raced with an invalidation is dropped instead of resurrecting a stale entry."""
        if generation is not None and generation != self._generation:
            return
        if record is None:
            if self._negative_ttl <= 0:
                return
            self._store(self._unknown, self._max_negative, key_hash, None, self._negative_ttl)
        else:
            self._unknown.pop(key_hash, None)
            self._store(self._known, self._max, key_hash, record, self._ttl)

    def _store(
        self,
        store: OrderedDict[str, CachedLookup],
        limit: int,
        key_hash: str,
        record: KeyRecord | None,
        ttl: float,
    ) -> None:
        store.pop(key_hash, None)
        now = self._clock()
        store[key_hash] = CachedLookup(record, now + ttl, now)
        while len(store) > limit:
            store.popitem(last=False)

    def invalidate_key(self, key_id: str) -> int:
        """Forget the entry of key ``key_id`` (after a revocation); returns how many went."""
        self._generation += 1
        stale = [
            h for h, e in self._known.items() if e.record and e.record.principal.key_id == key_id
        ]
        for key_hash in stale:
            del self._known[key_hash]
        return len(stale)

    def invalidate_member(self, team_id: str, user_id: str) -> int:
        """Forget the keys of ``user_id`` in ``team_id`` (role changed, member removed); an
        empty ``user_id`` means every key of the team (its slug changed), an empty ``team_id``
        every key of the user (made or no longer an operator)."""
        self._generation += 1
        stale = [
            h
            for h, e in self._known.items()
            if e.record
            and (not team_id or e.record.principal.team_id == team_id)
            and (not user_id or e.record.principal.user_id == user_id)
        ]
        for key_hash in stale:
            del self._known[key_hash]
        return len(stale)

    def clear(self) -> None:
        self._generation += 1
        self._known.clear()
        self._unknown.clear()

    def __len__(self) -> int:
        return len(self._known) + len(self._unknown)


class LastUsedTracker:
    """Remembers which keys were used (and when) until the next flush; no I/O per request."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._pending: dict[str, float] = {}

    def touch(self, key_id: str) -> None:
        self._pending[key_id] = self._clock()

    def drain(self) -> dict[str, float]:
        """Everything recorded since the last drain: key id → unix time of its latest use."""
        pending, self._pending = self._pending, {}
        return pending

    def restore(self, pending: dict[str, float]) -> None:
        """Put back a drained batch that could not be written (newer uses win)."""
        for key_id, used_at in pending.items():
            if used_at > self._pending.get(key_id, 0.0):
                self._pending[key_id] = used_at

    def __len__(self) -> int:
        return len(self._pending)
