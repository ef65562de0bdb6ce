"""Credit leases: a router holds a slice of a team's credit at billing and draws generations'
worst cases from it, so that most requests cost no round trip to billing.

A lease is a billing hold bigger than one generation's worst case (billing decides how big: only
when the team has plenty left, and at most a share of it). Each generation drawn from it is
``drawn`` until it settles at its real cost (``spent``); what is ``left`` is what the lease may
still cover. A lease is retired when it is too small for the next generation or older than its
time; once its last generation has settled it is given back to billing with the total spent, and
billing keeps holding what the usage facts have not debited yet. So, at every moment, billing
holds at least what this router may still spend: the balance cannot go below zero through a
lease any more than through a hold per generation (docs/billing.md, "Credit leases").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from tollgate_common.money import ZERO


@dataclass(slots=True)
class Lease:
    hold_id: str
    granted: Decimal
    usable_until: float  # monotonic: no new draws after it
    spent: Decimal = ZERO  # charged to generations that have settled
    drawn: Decimal = ZERO  # worst cases of generations still in flight
    in_flight: int = 0
    retired: bool = False

    def left(self) -> Decimal:
        return self.granted - self.spent - self.drawn


GiveBack = Callable[[str, Lease], None]


@dataclass(slots=True)
class Draw:
    """One generation's share of a lease: it settles once, at its cost or at nothing."""

    book: LeaseBook
    team_id: str
    lease: Lease
    worst: Decimal
    done: bool = field(default=False)

    @property
    def hold_id(self) -> str:
        return self.lease.hold_id

    def settle(self, cost: Decimal) -> None:
        if not self.done:
            self.done = True
            self.book.finish(self, cost)

    async def release(self) -> None:
        self.settle(ZERO)  # it reached no provider: nothing was spent


class LeaseBook:
    """Each team's current lease in this router, and the retired ones still in use."""

    def __init__(
        self,
        give_back: GiveBack,
        lease_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._give_back = give_back
        self._seconds = lease_seconds
        self._monotonic = monotonic
        self._current: dict[str, Lease] = {}

    def draw(self, team_id: str, worst: Decimal) -> Draw | None:
        """A draw on the team's current lease, or None when it cannot cover ``worst``."""
        lease = self._current.get(team_id)
        if lease is None:
            return None
        if lease.usable_until <= self._monotonic() or lease.left() < worst:
            self._retire(team_id, lease)
            return None
        return self._take(team_id, lease, worst)

    def add(self, team_id: str, hold_id: str, granted: Decimal, worst: Decimal) -> Draw:
        """A new lease of ``granted`` (just held at billing), drawn ``worst`` at once."""
        previous = self._current.get(team_id)
        if previous is not None:
            self._retire(team_id, previous)
        lease = Lease(hold_id, granted, self._monotonic() + self._seconds)
        self._current[team_id] = lease
        return self._take(team_id, lease, worst)

    def single(self, team_id: str, hold_id: str, granted: Decimal, worst: Decimal) -> Draw:
        """A hold of ``granted`` for one generation only (never the current lease, so a lease
        granted meanwhile stays current): given back once that generation settles."""
        lease = Lease(hold_id, granted, self._monotonic(), retired=True)
        return self._take(team_id, lease, worst)

    def finish(self, draw: Draw, cost: Decimal) -> None:
        lease = draw.lease
        lease.drawn -= draw.worst
        lease.spent += cost
        lease.in_flight -= 1
        if lease.retired and lease.in_flight == 0:
            self._give_back(draw.team_id, lease)

    def sweep(self) -> None:
        """Retire the leases past their time (those idle are given back at once)."""
        now = self._monotonic()
        for team_id, lease in list(self._current.items()):
            if lease.usable_until <= now:
                self._retire(team_id, lease)

    def retire_all(self) -> None:
        for team_id, lease in list(self._current.items()):
            self._retire(team_id, lease)

    def current(self, team_id: str) -> Lease | None:
        return self._current.get(team_id)

    def _take(self, team_id: str, lease: Lease, worst: Decimal) -> Draw:
        lease.drawn += worst
        lease.in_flight += 1
        return Draw(self, team_id, lease, worst)

    def _retire(self, team_id: str, lease: Lease) -> None:
        if self._current.get(team_id) is lease:
            del self._current[team_id]
        if not lease.retired:
            lease.retired = True
            if lease.in_flight == 0:
                self._give_back(team_id, lease)
