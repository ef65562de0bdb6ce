"""Following auth's revocation facts into a cache of identities: ``tollgate.auth.key_revoked.v1``
drops a key, ``tollgate.auth.membership_changed.v1`` a member's identities in a team (an empty
``user_id``: the whole team; an empty ``team_id``: the user in every team). Auth's own key cache
and the edge's credential cache follow them (:class:`tollgate_common.fact_follower.FactFollower`:
while not following, cached entries are trusted for ``offline_max_age`` seconds at most; on
reconnecting the cache is cleared)."""

from __future__ import annotations

from typing import Final, Protocol

from tollgate.events.v1 import auth_pb2

from tollgate_common.fact_follower import FactFollower

# Auth publishes them (docs/internal-contracts.md, "Events").
KEY_REVOKED: Final = "tollgate.auth.key_revoked.v1"
MEMBERSHIP_CHANGED: Final = "tollgate.auth.membership_changed.v1"


class RevocableCache(Protocol):
    def invalidate_key(self, key_id: str) -> int: ...
    def invalidate_member(self, team_id: str, user_id: str) -> int: ...
    def clear(self) -> None: ...


class RevocationFollower(FactFollower):
    def __init__(
        self, cache: RevocableCache, offline_max_age: float = 1.0, poll_seconds: float = 0.1
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
