"""What more than one domain of billing uses: the clock, and money amounts as the API reads
and writes them (top-ups and budget amounts in, balances and budgets out)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal

Clock = Callable[[], datetime]

CENT = Decimal("0.01")


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_top_up(text: str) -> Decimal | None:
    """A top-up amount: a positive decimal with at most 2 decimals below $1,000,000,000;
    None for anything else."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        return None
    if not value.is_finite() or value <= 0 or value >= Decimal(10) ** 9:
        return None
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or (exponent < -2 and value != value.quantize(CENT)):
        return None
    return value


def display(amount: Decimal) -> str:
    """A balance for ``/v1/credits``: at least 2 decimals (``"5.00"``), all that are there
    beyond (``"4.9999875"``), no exponent, no trailing zeros past the cents."""
    if amount == amount.quantize(CENT, rounding=ROUND_FLOOR):
        return format(amount.quantize(CENT), "f")
    text = format(amount, "f")
    return text.rstrip("0") if "." in text else text
