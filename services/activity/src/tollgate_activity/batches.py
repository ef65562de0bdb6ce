"""A batch of facts to store: each item validated on its own, so an invalid one is REJECTED
without holding up the others, and the results put back in the batch's order."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from tollgate_common.inbox import Stored

log = logging.getLogger(__name__)

Item = TypeVar("Item")


def validated(
    items: Sequence[Item], validate: Callable[[Item], Item], invalid: type[Exception], what: str
) -> tuple[list[Item], set[int]]:
    """The valid items (validated) and the positions of the invalid ones (logged)."""
    valid: list[Item] = []
    rejected: set[int] = set()
    for index, item in enumerate(items):
        try:
            valid.append(validate(item))
        except invalid as exc:
            log.error("rejecting %s %d of a batch: %s", what, index, exc)
            rejected.add(index)
    return valid, rejected


def merged(results: Sequence[Stored], rejected: set[int], total: int) -> list[Stored]:
    """One result per item of the batch, in order: ``results`` of the valid items (in their
    order) and REJECTED at the positions of ``rejected``."""
    stored = iter(results)
    return [Stored.REJECTED if i in rejected else next(stored) for i in range(total)]
