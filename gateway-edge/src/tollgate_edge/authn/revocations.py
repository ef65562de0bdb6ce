"""Keeps the edge's identity cache in step with auth: it follows
``tollgate.auth.key_revoked.v1`` (a key revoked, also when its member, project or team went)
and ``tollgate.auth.membership_changed.v1`` (a role, the operator flag or a team's slug
changed; a member, team, project or OIDC issuer removed) and drops the identities they name.

While not following (NATS down, not connected yet), cached identities are trusted for one
second at most; on reconnecting the cache is cleared
(:class:`tollgate_common.fact_follower.FactFollower`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from tollgate.events.v1 import auth_pb2
from tollgate_common.bus import Bus
from tollgate_common.bus_link import with_credentials
from tollgate_common.fact_follower import FactFollower

from tollgate_edge.authn.cache import IdentityCache

log = logging.getLogger(__name__)

# Auth's facts (docs/internal-contracts.md, "Events"); the edge's NATS user may subscribe to
# these two subjects and nothing else of auth's.
KEY_REVOKED: Final = "tollgate.auth.key_revoked.v1"
MEMBERSHIP_CHANGED: Final = "tollgate.auth.membership_changed.v1"

RETRY_SECONDS: Final = 1.0


class RevocationFollower(FactFollower):
    def __init__(
        self, cache: IdentityCache, offline_max_age: float = 1.0, poll_seconds: float = 0.1
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


async def follow_revocations(
    follower: RevocationFollower, url: str, user: str = "", password: str = ""
) -> None:
    """Connect to NATS (retrying while it is not there) and follow until cancelled or the
    follower is closed."""
    connect_url = with_credentials(url, user, password)
    while True:
        try:
            bus = await Bus.connect(connect_url, "tollgate-edge", wait_seconds=RETRY_SECONDS)
        except Exception as exc:
            log.warning("NATS at %s not reachable (%s); retrying", url, type(exc).__name__)
            await asyncio.sleep(RETRY_SECONDS)
            continue
        try:
            await follower.run(bus)
            return
        except Exception as exc:
            log.warning("stopped following key revocations (%s); again", type(exc).__name__)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bus.nc.close(), RETRY_SECONDS)
        await asyncio.sleep(RETRY_SECONDS)
