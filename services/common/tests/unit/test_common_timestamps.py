"""A time as the protos carry it: exactly what ``Timestamp.FromDatetime`` writes, for times in
any zone, naive ones (taken as UTC), before the epoch and at the ends of the datetime range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate_common.timestamps import timestamp


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 5, 1, 10, 30, 0, 123456, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 5, 1, 10, 30, 0, 5, tzinfo=timezone(timedelta(hours=-3))),
        datetime(2026, 5, 1, 10, 30, 0, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 5, 1, 10, 30, 0, 5),  # naive: UTC
    ],
)
def test_a_time_is_written_as_from_datetime_writes_it(moment: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(moment)

    stamp = timestamp(moment)

    assert (stamp.seconds, stamp.nanos) == (expected.seconds, expected.nanos)
    assert stamp.SerializeToString() == expected.SerializeToString()
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    assert stamp.ToDatetime(UTC) == aware
