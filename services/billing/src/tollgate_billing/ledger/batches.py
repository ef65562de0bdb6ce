"""Work that arrives for one team while the team's previous batch runs, done as one batch.

A burst of reservations for one team would otherwise be one transaction each, queued on the
team's row lock (on SQLite, on the process's one writer): 150 generations arriving together
took 150 transactions in turn, and the last ones waited past the router's deadline. Gathered,
they are one transaction: the team's row locked and its state read once, each decided in turn
against what the ones before it hold.

A batch runs in a task of its own, not the caller's: a caller that gives up (its deadline
passed) cancels only its own future, and the batch leaves it out if it has not started, or
tells the runner it was left (see :meth:`Item.abandoned`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Ask = TypeVar("Ask")
Answer = TypeVar("Answer")

# The most items one batch takes (the rest go in the next one): bounds one transaction.
BATCH_LIMIT = 256


@dataclass(slots=True)
class Item(Generic[Ask, Answer]):
    """One caller's ask and the future its answer goes to."""

    ask: Ask
    future: asyncio.Future[Answer] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def abandoned(self) -> bool:
        """Whether the caller is no longer waiting (its call was cancelled)."""
        return self.future.cancelled()

    def answer(self, value: Answer | BaseException) -> None:
        """Give the caller its answer (or error), unless it left."""
        if self.future.done():
            return
        if isinstance(value, BaseException):
            self.future.set_exception(value)
        else:
            self.future.set_result(value)


# Runs one batch of a team's items; answers each (an item left unanswered gets an error).
Runner = Callable[[str, list[Item[Ask, Answer]]], Awaitable[None]]


class TeamBatches(Generic[Ask, Answer]):
    """Per team, one batch at a time: items that arrive while it runs (or while it waits for
    ``gate``) form the next one."""

    def __init__(
        self,
        run: Runner[Ask, Answer],
        gate: Callable[[], contextlib.AbstractAsyncContextManager[object]],
        limit: int = BATCH_LIMIT,
    ) -> None:
        self._run = run
        self._gate = gate
        self._limit = limit
        self._pending: dict[str, list[Item[Ask, Answer]]] = {}
        self._draining: dict[str, asyncio.Task[None]] = {}

    async def submit(self, team_id: str, ask: Ask) -> Answer:
        """``ask`` decided in the team's next batch."""
        item: Item[Ask, Answer] = Item(ask)
        self._pending.setdefault(team_id, []).append(item)
        if team_id not in self._draining:
            self._draining[team_id] = asyncio.create_task(self._drain(team_id))
        return await item.future

    async def _drain(self, team_id: str) -> None:
        try:
            while team_id in self._pending:
                async with self._gate():
                    batch = self._take(team_id)
                    await self._run_batch(team_id, batch)
        finally:
            del self._draining[team_id]

    def _take(self, team_id: str) -> list[Item[Ask, Answer]]:
        waiting = self._pending.pop(team_id)
        batch, rest = waiting[: self._limit], waiting[self._limit :]
        if rest:
            self._pending[team_id] = rest
        return [item for item in batch if not item.abandoned()]

    async def _run_batch(self, team_id: str, batch: list[Item[Ask, Answer]]) -> None:
        if not batch:
            return
        try:
            await self._run(team_id, batch)
        except Exception as exc:  # every caller of the batch gets the error, the next goes on
            for item in batch:
                item.answer(exc)
            return
        for item in batch:  # a runner that forgot one: the caller must not wait forever
            if not item.future.done():
                log.error("a batch left an ask of team %s unanswered", team_id)
                item.answer(RuntimeError("unanswered in its batch"))
