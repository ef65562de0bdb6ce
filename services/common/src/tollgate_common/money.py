"""Exact money: Decimal in, decimal strings on the wire (never floats)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

ZERO = Decimal(0)


def parse_usd(text: str) -> Decimal:
    """Parse a decimal string; empty means zero. Raises ValueError on anything else."""
    if not text:
        return ZERO
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {text!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {text!r}")
    return value


def format_usd(value: Decimal) -> str:
    """Plain notation without exponent or trailing zeros: Decimal('2.5E-7') -> '0.00000025'."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
