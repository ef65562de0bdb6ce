"""Keeps this replica's key cache in step with every other replica's changes: it follows
``tollgate.auth.key_revoked.v1`` and ``tollgate.auth.membership_changed.v1`` and drops the keys
they name (:class:`tollgate_common.fact_follower.FactFollower`: while not following, cached keys
are trusted for ``offline_max_age`` seconds at most; on reconnecting the cache is cleared)."""

from __future__ import annotations

from tollgate.events.v1 import auth_pb2
from tollgate_common.fact_follower import FactFollower

from tollgate_auth.events import KEY_REVOKED, MEMBERSHIP_CHANGED
from tollgate_auth.keys.cache import KeyCache


class RevocationListener(FactFollower):
    def __init__(
        self, cache: KeyCache, offline_max_age: float = 1.0, poll_seconds: float = 0.1
    ) -> None:
        super().__init__(
            "key revocations",
            {
                KEY_REVOKED: (
                    auth_pb2.KeyRevoked,
                    lambda fact: cache.invalidate_key(fact.key_id),
                ),
                MEMBERSHIP_CHANGED: (
                    auth_pb2.MembershipChanged,
                    lambda fact: cache.invalidate_member(fact.team_id, fact.user_id),
                ),
            },
            resync=cache.clear,
            offline_max_age=offline_max_age,
            poll_seconds=poll_seconds,
        )
