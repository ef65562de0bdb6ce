"""Keeps the edge's identity cache in step with auth: it follows
``tollgate.auth.key_revoked.v1`` (a key revoked, also when its member, project or team went)
and ``tollgate.auth.membership_changed.v1`` (a role, the operator flag or a team's slug
changed; a member, team, project or OIDC issuer removed) and drops the identities they name.

While not following (NATS down, not connected yet), cached identities are trusted for one
second at most; on reconnecting the cache is cleared
(:class:`tollgate_common.revocations.RevocationFollower`). The edge's NATS user may subscribe
to these two subjects and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from tollgate_common.bus import Bus
from tollgate_common.bus_link import with_credentials
from tollgate_common.revocations import RevocationFollower

log = logging.getLogger(__name__)

RETRY_SECONDS: Final = 1.0


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
