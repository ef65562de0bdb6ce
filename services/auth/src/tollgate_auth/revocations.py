"""Keeps this replica's key cache in step with every other replica's changes.

Each replica subscribes (plain NATS, not a shared durable consumer: every replica must see every
message) to ``tollgate.auth.key_revoked.v1`` and ``tollgate.auth.membership_changed.v1`` and
drops the keys they name. While it is not subscribed — NATS down, not connected yet, or
reconnecting — it may miss a revocation, so cached keys are then trusted for at most
``offline_max_age`` seconds; once it is subscribed again it clears the cache first.
"""

from __future__ import annotations

import asyncio
import logging

from nats.aio.msg import Msg
from tollgate.events.v1 import auth_pb2
from tollgate_common.bus import Bus

from tollgate_auth.cache import KeyCache
from tollgate_auth.events import KEY_REVOKED, MEMBERSHIP_CHANGED

log = logging.getLogger(__name__)


class RevocationListener:
    def __init__(
        self, cache: KeyCache, offline_max_age: float = 1.0, poll_seconds: float = 0.1
    ) -> None:
        self._cache = cache
        self._offline_max_age = offline_max_age
        self._poll_seconds = poll_seconds
        self._live = False

    @property
    def live(self) -> bool:
        return self._live

    def max_age(self) -> float | None:
        """How old a cached key may be to be trusted now (``None``: as old as its TTL)."""
        return None if self._live else self._offline_max_age

    async def _on_key_revoked(self, msg: Msg) -> None:
        try:
            fact = auth_pb2.KeyRevoked.FromString(msg.data)
        except Exception:
            log.warning("ignoring an unreadable %s message", KEY_REVOKED)
            return
        self._cache.invalidate_key(fact.key_id)

    async def _on_membership_changed(self, msg: Msg) -> None:
        try:
            fact = auth_pb2.MembershipChanged.FromString(msg.data)
        except Exception:
            log.warning("ignoring an unreadable %s message", MEMBERSHIP_CHANGED)
            return
        self._cache.invalidate_member(fact.team_id, fact.user_id)

    async def run(self, bus: Bus) -> None:
        """Subscribe, then follow the connection until cancelled."""
        await bus.nc.subscribe(KEY_REVOKED, cb=self._on_key_revoked)
        await bus.nc.subscribe(MEMBERSHIP_CHANGED, cb=self._on_membership_changed)
        await bus.nc.flush()
        try:
            while True:
                connected = bus.nc.is_connected
                if connected and not self._live:
                    # Whatever was revoked while we were away is not in the cache any more.
                    self._cache.clear()
                    self._live = True
                    log.info("following key revocations")
                elif not connected and self._live:
                    self._live = False
                    log.warning(
                        "not connected to NATS: trusting cached keys for %.1fs at most",
                        self._offline_max_age,
                    )
                await asyncio.sleep(self._poll_seconds)
        finally:
            self._live = False
