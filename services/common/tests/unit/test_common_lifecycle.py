"""Serving until a signal, shared by the services' runtime and the edge: start, wait for the stop
event (SIGTERM or a request), stop; stop also runs when start fails; a failing shutdown step is
logged and the next one still runs."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
from tollgate_common.lifecycle import run_until_stopped, shutdown_step


async def test_sigterm_stops_what_was_started() -> None:
    events: list[str] = []

    async def start() -> int:
        events.append("started")
        asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGTERM)
        return 1234

    async def stop() -> None:
        events.append("stopped")

    await asyncio.wait_for(run_until_stopped(start, stop), timeout=5)

    assert events == ["started", "stopped"]
    # The handlers are removed again: the loop no longer answers SIGTERM itself.
    assert not asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)


async def test_a_requested_stop_and_a_failed_start_both_stop() -> None:
    stopped: list[str] = []
    requested = asyncio.Event()

    async def start() -> None:
        requested.set()

    async def stop() -> None:
        stopped.append("stop")

    await run_until_stopped(start, stop, requested)

    async def broken() -> None:
        raise OSError("cannot listen")

    with pytest.raises(OSError, match="cannot listen"):
        await run_until_stopped(broken, stop)
    assert stopped == ["stop", "stop"]


async def test_a_failing_step_is_logged_and_the_next_runs(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    async def failing() -> None:
        raise RuntimeError("boom")

    async def next_step() -> None:
        ran.append("next")

    await shutdown_step("edge", "stop serving", failing)
    await shutdown_step("edge", "stop serving metrics", next_step)

    assert ran == ["next"]
    assert "edge: cannot stop serving" in caplog.text
