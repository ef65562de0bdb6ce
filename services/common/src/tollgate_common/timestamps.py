"""Times as the protos carry them (``google.protobuf.Timestamp``)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(moment: datetime) -> Timestamp:
    """``moment`` as a Timestamp: what ``Timestamp.FromDatetime`` writes (a naive time is taken
    as UTC), built by one constructor call at a fraction of that method's cost."""
    since = (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)) - _EPOCH
    return Timestamp(seconds=since.days * 86400 + since.seconds, nanos=since.microseconds * 1000)
