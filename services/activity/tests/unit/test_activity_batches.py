"""A batch of facts: invalid items rejected on their own, results back in the batch's order."""

from __future__ import annotations

import pytest
from tollgate_activity.batches import merged, validated
from tollgate_common.inbox import Stored


def _positive(value: int) -> int:
    if value <= 0:
        raise ValueError(f"{value} is not positive")
    return value * 10


def test_invalid_items_are_set_apart_and_valid_ones_validated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    valid, rejected = validated([1, -2, 3, 0], _positive, ValueError, "number")
    assert (valid, rejected) == ([10, 30], {1, 3})
    assert "rejecting number 1 of a batch: -2 is not positive" in caplog.text


def test_an_unexpected_error_is_not_a_rejection() -> None:
    with pytest.raises(ValueError, match="not positive"):
        validated([-1], _positive, KeyError, "number")


def test_results_go_back_to_the_positions_of_their_items() -> None:
    results = [Stored.NEW, Stored.DUPLICATE]
    assert merged(results, {0, 2}, 4) == [
        Stored.REJECTED,
        Stored.NEW,
        Stored.REJECTED,
        Stored.DUPLICATE,
    ]
    assert merged([], {0}, 1) == [Stored.REJECTED]
