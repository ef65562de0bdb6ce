"""The retention policy of raw request rows: a periodic sweep deletes those older than the
configured number of days (rollups are kept, so observability still covers that time)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

# A consumer's claims must outlive every possible redelivery of their facts: JetStream keeps a
# fact 7 days (tollgate_common.bus.STREAMS), so claims are kept at least a day longer.
MIN_INBOX_DAYS = 8


class Prunable(Protocol):
    async def delete_before(self, cutoff: datetime, inbox_cutoff: datetime) -> int: ...


class RetentionSweeper:
    def __init__(self, store: Prunable, retention_days: int, interval_seconds: float) -> None:
        self._store = store
        self._retention = timedelta(days=retention_days)
        self._inbox_retention = timedelta(days=max(retention_days, MIN_INBOX_DAYS))
        self._interval = interval_seconds

    async def sweep(self, now: datetime | None = None) -> int:
        """Delete what is past retention now; the number of request rows deleted."""
        now = now or datetime.now(UTC)
        deleted = await self._store.delete_before(
            now - self._retention, now - self._inbox_retention
        )
        if deleted:
            log.info("retention: deleted %d request rows older than %s", deleted, self._retention)
        return deleted

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep at start and then every interval until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.sweep()
            except SQLAlchemyError as exc:
                log.warning("retention sweep failed; trying again later: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)
