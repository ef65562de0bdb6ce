"""A service's background tasks: one stop event, a failing task alone, late tasks cancelled."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tollgate_common.background import Background


async def test_tasks_stop_by_the_event_or_are_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    background = Background()
    ended: list[str] = []

    async def until_stopped() -> None:
        await background.stopping.wait()
        ended.append("returned at the stop")

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise

    async def failing() -> None:
        raise RuntimeError("boom")

    async def late() -> None:
        await background.stopping.wait()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            ended.append("late, cancelled")
            raise

    background.start("loop", until_stopped(), cancel=False)
    background.start("refresher", forever(), cancel=True)
    background.start("broken", failing(), cancel=False)
    background.start("slow", late(), cancel=False)
    with caplog.at_level(logging.WARNING, logger="tollgate_common.background"):
        await asyncio.sleep(0.01)  # the broken task fails alone: the others keep running
        assert ended == []
        await asyncio.wait_for(background.stop(grace_seconds=0.2), 5)
    assert sorted(ended) == ["cancelled", "late, cancelled", "returned at the stop"]
    messages = [record.getMessage() for record in caplog.records]
    assert "broken failed" in messages
    assert any(m.startswith("slow did not stop within") for m in messages)
