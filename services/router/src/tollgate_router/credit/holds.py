"""What a generation holds at billing while it runs, and how it lets go of it."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol


class Hold(Protocol):
    @property
    def hold_id(self) -> str:
        """The billing hold the usage fact names ("" when billing holds nothing for it)."""
        ...

    def settle(self, cost: Decimal, model: str = "", output_tokens: int = 0) -> None:
        """The generation ended having been charged ``cost`` (its usage fact is on its way);
        when it succeeded, ``model`` produced ``output_tokens`` (what output allowances learn
        from: :mod:`tollgate_router.credit.allowance`)."""
        ...

    async def release(self) -> None:
        """The generation will produce no usage fact: give the money back now."""
        ...


class _NoHold:
    hold_id = ""

    def settle(self, cost: Decimal, model: str = "", output_tokens: int = 0) -> None:
        return None

    async def release(self) -> None:
        return None


NO_HOLD: Hold = _NoHold()
