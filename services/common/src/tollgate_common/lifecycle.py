"""Serving until a signal, the same in every process: the gRPC services (through
:class:`tollgate_common.runtime.ServiceRuntime`) and the HTTP edge.

SIGINT and SIGTERM set one stop event; the process starts, serves until the event is set, then
stops, also when starting failed (stopping releases what was started). Stopping is a sequence
of steps in a fixed order, each given its own grace period by whoever owns it (a server's drain,
a relay's flush); a step that fails is logged and the next one still runs.

Once started, a process gives the C allocator's free memory back to the system: importing and
starting leave several MiB of freed heap behind, which glibc keeps resident otherwise.

Only the standard library is imported here, so the edge pays for nothing it does not use.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import signal
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[None]]
SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def run_until_stopped(
    start: Callable[[], Awaitable[object]],
    stop: Step,
    stop_requested: asyncio.Event | None = None,
) -> None:
    """``start()``, serve until SIGINT / SIGTERM (or until ``stop_requested`` is set otherwise),
    then ``stop()``; the signal handlers are removed again before stopping."""
    if stop_requested is None:
        stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in SIGNALS:
        loop.add_signal_handler(sig, stop_requested.set)
    try:
        await start()
        release_free_memory()
        await stop_requested.wait()
    finally:
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)
        await stop()


async def shutdown_step(name: str, what: str, step: Step) -> None:
    """One step of ``name``'s shutdown: a failure is logged (``cannot <what>``), not raised, so
    that the steps after it still run."""
    try:
        await step()
    except Exception:
        log.exception("%s: cannot %s", name, what)


def release_free_memory() -> None:
    """Collect garbage, then return the heap's free pages to the system (glibc's
    ``malloc_trim``; nothing on a C library without it)."""
    gc.collect()
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # the process's own symbols
    if trim is not None:
        trim(0)
