"""Release calls to billing sent in the background, per team: retired leases given back or
shrunk while in use, and one-off holds let go. A reservation of the team waits for them first
(:meth:`GiveBacks.settled`): the money they free may be what it needs."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import grpc
from tollgate.billing.v1 import billing_pb2
from tollgate_common.money import format_usd

from tollgate_router.credit.leases import Lease

if TYPE_CHECKING:
    from tollgate.billing.v1.billing_pb2_grpc import BillingServiceAsyncStub


def team_of_book(book: str) -> str:
    """The team of a lease book (team, project and key joined by newlines)."""
    return book.split("\n", 1)[0]


class GiveBacks:
    def __init__(self, stub: BillingServiceAsyncStub, deadline_seconds: float) -> None:
        self._stub = stub
        self._deadline = deadline_seconds
        self._pending: dict[str, set[asyncio.Task[None]]] = {}  # per team

    def give_back(self, book: str, lease: Lease) -> None:
        """A retired lease whose generations have all settled: billing keeps holding only
        what their usage facts have not debited yet."""
        self._send(team_of_book(book), lease.hold_id, format_usd(lease.spent), in_use=False)

    def shrink(self, book: str, lease: Lease) -> None:
        """A retired lease whose generations still run: billing holds only what they may
        still cost, until it is given back."""
        self._send(team_of_book(book), lease.hold_id, format_usd(lease.needed()), in_use=True)

    async def release(
        self, team_id: str, hold_id: str, spent: str, *, in_use: bool = False
    ) -> None:
        """One Release call (``spent`` empty: the whole hold goes); billing's own expiry
        covers one that fails."""
        request = billing_pb2.ReleaseRequest(
            team_id=team_id, hold_id=hold_id, spent=spent, in_use=in_use
        )
        with contextlib.suppress(grpc.aio.AioRpcError):
            await self._stub.Release(request, timeout=self._deadline)

    async def settled(self, team_id: str) -> None:
        """Wait (at most the deadline) for the team's Release calls in flight."""
        pending = self._pending.get(team_id)
        if pending:
            await asyncio.wait(set(pending), timeout=self._deadline)

    async def drain(self) -> None:
        """Wait (at most the deadline) for every Release call in flight."""
        pending = {task for tasks in self._pending.values() for task in tasks}
        if pending:
            await asyncio.wait(pending, timeout=self._deadline)

    def _send(self, team_id: str, hold_id: str, spent: str, *, in_use: bool) -> None:
        task = asyncio.get_running_loop().create_task(
            self.release(team_id, hold_id, spent, in_use=in_use)
        )
        pending = self._pending.setdefault(team_id, set())
        pending.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            pending.discard(finished)
            if not pending and self._pending.get(team_id) is pending:
                del self._pending[team_id]

        task.add_done_callback(done)
