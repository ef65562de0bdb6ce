"""Credit leases: a router holds a slice of a team's credit at billing and draws generations'
worst cases from it, so that most requests cost no round trip to billing.

A lease is a billing hold bigger than one generation's worst case (billing decides how big: only
when the team has plenty left, and at most a share of it). Each generation drawn from it is
``drawn`` until it settles at its real cost (``spent``); what is ``left`` is what the lease may
still cover. A book (team, project, key) may have a few current leases: when they are all busy,
the router asks for one more (sized to its demand) instead of retiring them. A lease is retired
when it can no longer cover a generation or is older than its time; a retired lease whose
generations still run is shrunk at billing to what they may still cost (``needed``), and once
its last generation has settled it is given back with the total spent, and billing keeps
holding what the usage facts have not debited yet. So, at every moment, billing
holds at least what this router may still spend: the balance cannot go below zero through a
lease any more than through a hold per generation (docs/billing.md, "Credit leases").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
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
    # Output tokens each generation drawn from it may send upstream (billing held it under
    # money pressure: :mod:`tollgate_router.credit.allowance`); 0: each generation's own limit.
    allowance: int = 0

    def left(self) -> Decimal:
        return self.granted - self.spent - self.drawn

    def needed(self) -> Decimal:
        """What its generations may cost in all: those settled, and those running at worst."""
        return self.spent + self.drawn


# A book's current leases: one more is asked for when all are busy, up to this many.
MAX_LEASES_PER_BOOK = 4


@dataclass(frozen=True, slots=True)
class Need:
    """What a generation may cost: its prompt, and up to ``tokens`` output tokens at ``price``
    each (fewer on a lease with a lower allowance)."""

    input_cost: Decimal
    tokens: int
    price: Decimal

    def on(self, lease: Lease) -> tuple[int, Decimal]:
        """The output tokens and the worst case of this generation drawn from ``lease``."""
        tokens = min(self.tokens, lease.allowance) if lease.allowance else self.tokens
        return tokens, self.input_cost + tokens * self.price


GiveBack = Callable[[str, Lease], None]
Shrink = Callable[[str, Lease], None]
Observe = Callable[[str, int], None]
Finished = Callable[[str], None]


@dataclass(slots=True)
class Draw:
    """One generation's share of a lease: it settles once, at its cost or at nothing."""

    book: LeaseBook
    team_id: str
    lease: Lease
    worst: Decimal
    tokens: int  # the output tokens held: the hard cap sent upstream
    done: bool = field(default=False)

    @property
    def hold_id(self) -> str:
        return self.lease.hold_id

    def settle(self, cost: Decimal, model: str = "", output_tokens: int = 0) -> None:
        if not self.done:
            self.done = True
            self.book.finish(self, cost)
            if model:
                self.book.observe(model, output_tokens)

    async def release(self) -> None:
        self.settle(ZERO)  # it reached no provider: nothing was spent


def _noop(book: str, lease: Lease) -> None:
    return None


def _unobserved(model: str, output_tokens: int) -> None:
    return None


def _unheard(book: str) -> None:
    return None


class LeaseBook:
    """Each book's current leases in this router, and the retired ones still in use."""

    def __init__(
        self,
        give_back: GiveBack,
        lease_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
        shrink: Shrink = _noop,
        observe: Observe = _unobserved,
        finished: Finished = _unheard,
    ) -> None:
        self._give_back = give_back
        self._shrink = shrink
        # A draw of the book settled (its generation ended, or never reached a provider).
        self._finished = finished
        # A generation that drew from a lease succeeded: its model's output tokens.
        self.observe = observe
        self._seconds = lease_seconds
        self._monotonic = monotonic
        self._current: dict[str, list[Lease]] = {}

    def draw(self, book: str, need: Need) -> Draw | None:
        """A draw on one of the book's current leases, or None when none covers ``need``.
        Leases past their time, or that could not cover it even when idle, retire."""
        leases = self._current.get(book)
        if not leases:
            return None
        now = self._monotonic()
        for lease in list(leases):
            tokens, worst = need.on(lease)
            if lease.usable_until <= now or lease.granted - lease.spent < worst:
                self._retire(book, lease)
            elif lease.left() >= worst:
                return self._take(book, lease, tokens, worst)
        return None

    def add(
        self, book: str, hold_id: str, granted: Decimal, need: Need, allowance: int = 0
    ) -> Draw:
        """A new lease of ``granted`` (just held at billing) with its output ``allowance``,
        drawn ``need`` at once; the book's other leases stay current (the one with least left
        retires past the limit)."""
        leases = self._current.setdefault(book, [])
        if len(leases) >= MAX_LEASES_PER_BOOK:
            self._retire(book, min(leases, key=Lease.left))
        lease = Lease(hold_id, granted, self._monotonic() + self._seconds, allowance=allowance)
        self._current.setdefault(book, []).append(lease)
        return self._take(book, lease, *need.on(lease))

    def single(
        self, book: str, hold_id: str, granted: Decimal, need: Need, allowance: int = 0
    ) -> Draw:
        """A hold of ``granted`` for one generation only (never a current lease): given back
        once that generation settles."""
        lease = Lease(hold_id, granted, self._monotonic(), retired=True, allowance=allowance)
        return self._take(book, lease, *need.on(lease))

    def finish(self, draw: Draw, cost: Decimal) -> None:
        lease = draw.lease
        lease.drawn -= draw.worst
        lease.spent += cost
        lease.in_flight -= 1
        if lease.retired and lease.in_flight == 0:
            self._give_back(draw.team_id, lease)
        self._finished(draw.team_id)

    def in_flight(self, book: str) -> int:
        """Generations running on the book's current leases."""
        return sum(lease.in_flight for lease in self._current.get(book, ()))

    def unused(self, books: Iterable[str]) -> bool:
        """Whether the current leases of ``books`` hold anything their generations do not."""
        return any(lease.left() > 0 for book in books for lease in self._current.get(book, ()))

    def books(self) -> list[str]:
        return list(self._current)

    def sweep(self) -> None:
        """Retire the leases past their time (those idle are given back at once)."""
        now = self._monotonic()
        for book, leases in list(self._current.items()):
            for lease in list(leases):
                if lease.usable_until <= now:
                    self._retire(book, lease)

    def retire(self, books: Iterable[str]) -> None:
        """Retire every current lease of ``books`` (shrunk or given back at once)."""
        for book in list(books):
            for lease in list(self._current.get(book, ())):
                self._retire(book, lease)

    def retire_all(self) -> None:
        self.retire(list(self._current))

    def current(self, book: str) -> Lease | None:
        """The book's newest current lease."""
        leases = self._current.get(book)
        return leases[-1] if leases else None

    def _take(self, book: str, lease: Lease, tokens: int, worst: Decimal) -> Draw:
        worst = min(worst, lease.granted)  # billing's figure of the same is what is held
        lease.drawn += worst
        lease.in_flight += 1
        return Draw(self, book, lease, worst, tokens)

    def _retire(self, book: str, lease: Lease) -> None:
        leases = self._current.get(book)
        if leases is not None and lease in leases:
            leases.remove(lease)
            if not leases:
                del self._current[book]
        if not lease.retired:
            lease.retired = True
            if lease.in_flight == 0:
                self._give_back(book, lease)
            elif lease.left() > 0:
                self._shrink(book, lease)
