"""Keeps a cache held in memory in step with facts every replica must see.

Each replica subscribes with plain NATS (not a shared durable consumer: every replica must see
every message) and applies each fact to its cache. While it is not subscribed — NATS down, not
connected yet, or reconnecting — it may miss a fact, so cached entries are then to be trusted
for at most ``offline_max_age`` seconds (:meth:`FactFollower.max_age`); once connected again
it drops what it held (``resync``) before trusting its cache again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from google.protobuf.message import Message
from nats.aio.msg import Msg

from tollgate_common.bus import Bus

log = logging.getLogger(__name__)

# subject → (the fact's message type, what to do with one)
Handlers = Mapping[str, tuple[type[Message], Callable[[Any], object]]]


class FactFollower:
    def __init__(
        self,
        what: str,
        handlers: Handlers,
        resync: Callable[[], None],
        offline_max_age: float = 1.0,
        poll_seconds: float = 0.1,
    ) -> None:
        self._what = what  # for the log: "key revocations", "BYOK credential changes"
        self._handlers = handlers
        self._resync = resync
        self._offline_max_age = offline_max_age
        self._poll_seconds = poll_seconds
        self._live = False
        self._closed = False

    @property
    def live(self) -> bool:
        """Whether the facts are being followed (else cached entries expire quickly)."""
        return self._live

    def max_age(self) -> float | None:
        """How old a cached entry may be to be trusted now (``None``: as old as its TTL)."""
        return None if self._live else self._offline_max_age

    def close(self) -> None:
        """Stop following (``run`` returns within ``poll_seconds``)."""
        self._closed = True

    def _callback(self, subject: str) -> Callable[[Msg], Any]:
        kind, apply = self._handlers[subject]

        async def on_message(msg: Msg) -> None:
            try:
                fact = kind.FromString(msg.data)
            except Exception:
                log.warning("ignoring an unreadable %s message", subject)
                return
            apply(fact)

        return on_message

    async def run(self, bus: Bus) -> None:
        """Subscribe, then follow the connection until closed or cancelled."""
        subscriptions = [
            await bus.nc.subscribe(subject, cb=self._callback(subject))
            for subject in self._handlers
        ]
        await bus.nc.flush()
        try:
            while not self._closed:
                connected = bus.nc.is_connected
                if connected and not self._live:
                    self._resync()  # whatever changed while away is not held any more
                    self._live = True
                    log.info("following %s", self._what)
                elif not connected and self._live:
                    self._live = False
                    log.warning(
                        "not connected to NATS: missing %s; cached entries trusted %.1fs at most",
                        self._what,
                        self._offline_max_age,
                    )
                await asyncio.sleep(self._poll_seconds)
        finally:
            self._live = False
            for subscription in subscriptions:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(subscription.unsubscribe(), 1.0)
