"""Holds expire only once their usage facts can no longer be on the way.

A hold past its expiry is let go when every usage fact published before that expiry has been
applied, never on time alone: while NATS is down or the usage consumer is stuck, a lease's
generations may still be charged, and letting its money go would let the team spend it twice.
The sweep notes, every few seconds, a moment and the usage stream's last sequence read after it;
once the consumer's ack floor (every message up to it handled) reaches that sequence, every fact
published before the moment is applied, and the holds that expired before it may go. Those
their routers never gave back are kept as *unsettled* for the operator (the router died: facts
of generations it cut may never come).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from tollgate_common.bus import Bus

from tollgate_billing.domain import Clock
from tollgate_billing.ledger.service import CreditsService

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Mark:
    at: datetime  # a moment ...
    last_seq: int  # ... and the stream's last sequence, read after it


class FactsWatermark:
    """Up to when every published fact is known to be applied."""

    def __init__(self) -> None:
        self._marks: deque[_Mark] = deque()
        self._applied_until: datetime | None = None

    def observe(self, at: datetime, last_seq: int) -> None:
        """At ``at`` (or before), no published fact had a sequence above ``last_seq``."""
        self._marks.append(_Mark(at, last_seq))

    def applied_until(self, ack_floor: int) -> datetime | None:
        """The latest moment before which every published fact is applied, given that every
        message up to ``ack_floor`` is (None: none known yet)."""
        while self._marks and self._marks[0].last_seq <= ack_floor:
            self._applied_until = self._marks.popleft().at
        return self._applied_until


class HoldExpiry:
    """The sweep (run by the service runtime once NATS is linked; every replica may run one:
    each team's holds expire under its row lock)."""

    def __init__(
        self,
        credits: CreditsService,
        clock: Clock,
        *,
        stream: str,
        durable: str,
        interval_seconds: float,
    ) -> None:
        self._credits = credits
        self._clock = clock
        self._stream = stream
        self._durable = durable
        self._interval = interval_seconds
        self._watermark = FactsWatermark()
        self._closed = asyncio.Event()

    async def run(self, bus: Bus) -> None:
        """Sweep every interval until :meth:`close`."""
        while not self._closed.is_set():
            try:
                await self.sweep(bus)
            except Exception:
                log.exception("hold expiry sweep failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self._interval)

    def close(self) -> None:
        self._closed.set()

    async def sweep(self, bus: Bus) -> int:
        """Note where the facts are, then let go the holds whose facts are all applied; how
        many went. Nothing goes while the stream or the consumer cannot be read."""
        at = self._clock()
        try:
            stream = await bus.js.stream_info(self._stream)
            consumer = await bus.js.consumer_info(self._stream, self._durable)
        except Exception as exc:  # NATS away, or the consumer not created yet
            log.debug("hold expiry: no stream or consumer info: %s", exc)
            return 0
        last_seq = int(stream.state.last_seq or 0)
        self._watermark.observe(at, last_seq)
        floor = int(consumer.ack_floor.stream_seq or 0) if consumer.ack_floor else 0
        if not consumer.num_pending and not consumer.num_ack_pending:
            floor = max(floor, last_seq)  # nothing left to deliver, nothing unacknowledged
        until = self._watermark.applied_until(floor)
        if until is None:
            return 0
        return await self._credits.expire_holds(until)
