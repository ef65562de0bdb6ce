"""The facts watermark of the hold expiry: a moment counts as caught up only once every message
the usage stream had after it is handled, never on time alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tollgate_billing.ledger.expiry import FactsWatermark

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_nothing_is_caught_up_before_the_consumer_reaches_the_stream() -> None:
    watermark = FactsWatermark()
    watermark.observe(T0, last_seq=10)
    assert watermark.applied_until(ack_floor=9) is None
    watermark.observe(T0 + timedelta(seconds=5), last_seq=12)
    assert watermark.applied_until(ack_floor=9) is None  # time alone moves nothing


def test_the_latest_moment_whose_facts_are_all_handled_counts() -> None:
    watermark = FactsWatermark()
    for seconds, last_seq in ((0, 10), (5, 12), (10, 20)):
        watermark.observe(T0 + timedelta(seconds=seconds), last_seq)
    assert watermark.applied_until(ack_floor=12) == T0 + timedelta(seconds=5)
    # It never goes back, whatever the consumer reports next.
    assert watermark.applied_until(ack_floor=0) == T0 + timedelta(seconds=5)
    assert watermark.applied_until(ack_floor=20) == T0 + timedelta(seconds=10)
