"""Several messages in one on the ``RouterService.Generations`` streams (docs/internal-contracts.md,
"Generations"): what both ends agree on, and how each end fills a message with what is queued.

Each side sends several in one message only to a peer that said it reads them (:data:`MORE`: the
router in its initial metadata, the edge in the call's metadata). A message takes what is queued
when the stream can write next, so nothing waits for company.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

# "I read messages that carry several requests (answers)".
MORE = ("tollgate-generations-more", "1")
# The router's "I answer streaming requests with their events" (in its initial metadata).
STREAMS = ("tollgate-generations-streams", "1")
# The most a message carries, and the size beyond which nothing more joins it (gRPC refuses a
# message over 64 MiB; one answer alone may come close).
MAX_TOGETHER = 64
MAX_TOGETHER_BYTES = 1024 * 1024

T = TypeVar("T")


def says_more(metadata: Iterable[tuple[str, str | bytes]] | None) -> bool:
    """Whether call or initial metadata carries :data:`MORE`."""
    return MORE in tuple(metadata or ())


def says_streams(metadata: Iterable[tuple[str, str | bytes]] | None) -> bool:
    """Whether the router's initial metadata carries :data:`STREAMS`."""
    return STREAMS in tuple(metadata or ())


class Queued(Generic[T]):
    """What :func:`join_queued` took: the items that join the message, one taken that did not
    fit (the next message's first), and whether the queue's end (None) was taken."""

    __slots__ = ("ended", "held", "items")

    def __init__(self) -> None:
        self.items: list[T] = []
        self.held: T | None = None
        self.ended = False


def join_queued(first: T, queue: asyncio.Queue[T | None], size: Callable[[T], int]) -> Queued[T]:
    """What else is queued behind ``first`` (already in the message), up to :data:`MAX_TOGETHER`
    items and :data:`MAX_TOGETHER_BYTES` by ``size``."""
    taken: Queued[T] = Queued()
    total = 0
    for _ in range(MAX_TOGETHER - 1):
        if queue.empty():
            break
        item = queue.get_nowait()
        if item is None:
            taken.ended = True
            break
        total = total or size(first)
        total += size(item)
        if total > MAX_TOGETHER_BYTES:
            taken.held = item
            break
        taken.items.append(item)
    return taken
