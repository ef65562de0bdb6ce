from decimal import Decimal

import pytest
from tollgate_common.money import format_usd, parse_usd


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("2.5E-7"), "0.00000025"),
        (Decimal("10.000"), "10"),
        (Decimal("0"), "0"),
        (Decimal("0.0000123") * 3, "0.0000369"),
        (Decimal("1E+2"), "100"),
    ],
)
def test_format_usd_is_plain_and_exact(value: Decimal, text: str) -> None:
    assert format_usd(value) == text
    assert parse_usd(text) == value


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", "1,5"])
def test_parse_usd_refuses_non_amounts(bad: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        parse_usd(bad)
