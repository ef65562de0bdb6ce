"""The background tasks of a service, owned as one group with one stop event."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Background:
    """Tasks started together and stopped together.

    A task either returns by itself once :attr:`stopping` is set (``cancel=False``: a consumer
    finishing its batch, a loop finishing its round) or is cancelled at the stop
    (``cancel=True``: a periodic refresher with nothing to finish). A task that fails is logged
    and does not take the others down."""

    def __init__(self) -> None:
        self.stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._cancelled: list[asyncio.Task[None]] = []

    def start(self, name: str, work: Coroutine[Any, Any, None], *, cancel: bool) -> None:
        task = asyncio.create_task(work, name=name)
        task.add_done_callback(_log_failure)
        (self._cancelled if cancel else self._tasks).append(task)

    async def stop(self, grace_seconds: float) -> None:
        """Set :attr:`stopping`, cancel what is to be cancelled and give the others
        ``grace_seconds`` to return (then cancel them too)."""
        self.stopping.set()
        for task in self._cancelled:
            task.cancel()
        everything = [*self._tasks, *self._cancelled]
        if not everything:
            return
        _, late = await asyncio.wait(everything, timeout=grace_seconds)
        for task in late:
            log.warning(
                "%s did not stop within %.1fs; cancelling it", task.get_name(), grace_seconds
            )
            task.cancel()
        await asyncio.gather(*everything, return_exceptions=True)


def _log_failure(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    failure = task.exception()
    if failure is not None:
        log.error("%s failed", task.get_name(), exc_info=failure)
