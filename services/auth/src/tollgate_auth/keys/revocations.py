"""Keeps this replica's key cache in step with every other replica's changes: it follows
``tollgate.auth.key_revoked.v1`` and ``tollgate.auth.membership_changed.v1`` and drops the keys
they name (:class:`tollgate_common.revocations.RevocationFollower`: while not following, cached
keys are trusted for ``offline_max_age`` seconds at most; on reconnecting the cache is
cleared)."""

from __future__ import annotations

from tollgate_common.revocations import RevocationFollower

from tollgate_auth.keys.cache import KeyCache


class RevocationListener(RevocationFollower):
    def __init__(
        self, cache: KeyCache, offline_max_age: float = 1.0, poll_seconds: float = 0.1
    ) -> None:
        super().__init__(cache, offline_max_age, poll_seconds)
