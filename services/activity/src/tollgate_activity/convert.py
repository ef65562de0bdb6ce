"""Proto ⇄ domain converters of the activity API: granularities, metrics, time ranges, request
log entries, activity events and observability series."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.activity.v1 import activity_pb2
from tollgate_common.money import format_usd
from tollgate_common.usage_record import Answer

from tollgate_activity.activity_log.events import ActivityEvent
from tollgate_activity.models import REQUEST_ROWS
from tollgate_activity.pagination import TimeRange
from tollgate_activity.request_log.service import RequestLogEntry
from tollgate_activity.rollups.buckets import Resolution
from tollgate_activity.rollups.service import Metric, Series

RESOLUTIONS = {
    activity_pb2.GRANULARITY_UNSPECIFIED: None,
    activity_pb2.GRANULARITY_MINUTE: Resolution.MINUTE,
    activity_pb2.GRANULARITY_HOUR: Resolution.HOUR,
    activity_pb2.GRANULARITY_DAY: Resolution.DAY,
}
GRANULARITIES = {
    Resolution.MINUTE: activity_pb2.GRANULARITY_MINUTE,
    Resolution.HOUR: activity_pb2.GRANULARITY_HOUR,
    Resolution.DAY: activity_pb2.GRANULARITY_DAY,
}
METRICS = {
    activity_pb2.METRIC_UNSPECIFIED: Metric.REQUESTS,
    activity_pb2.METRIC_REQUESTS: Metric.REQUESTS,
    activity_pb2.METRIC_TTFT: Metric.TTFT,
    activity_pb2.METRIC_TOKENS: Metric.TOKENS,
    activity_pb2.METRIC_SPEND: Metric.SPEND,
}
_ACTOR_TYPES = {
    "user": activity_pb2.ACTOR_TYPE_USER,
    "api-key": activity_pb2.ACTOR_TYPE_API_KEY,
    "system": activity_pb2.ACTOR_TYPE_SYSTEM,
}


def timestamp(moment: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


def time_range(message: Any) -> TimeRange:
    """The optional ``since`` / ``until`` of a request message."""
    return TimeRange(
        since=message.since.ToDatetime(UTC) if message.HasField("since") else None,
        until=message.until.ToDatetime(UTC) if message.HasField("until") else None,
    )


def event_to_proto(event: ActivityEvent) -> activity_pb2.ActivityEvent:
    return activity_pb2.ActivityEvent(
        id=event.event_id,
        team_id=event.team_id,
        project_id=event.project_id,
        type=event.type,
        actor_id=event.actor_id,
        actor_type=_ACTOR_TYPES.get(event.actor_type, activity_pb2.ACTOR_TYPE_UNSPECIFIED),
        account_type=event.account_type,
        target_type=event.target_type,
        target_id=event.target_id,
        details=dict(event.details),
        created_at=timestamp(event.created_at),
    )


def series_to_proto(series: Series) -> activity_pb2.ObservabilitySeries:
    """Column lists straight into packed repeated fields (no per-point Python work but the
    spend strings)."""
    return activity_pb2.ObservabilitySeries(
        model=series.model,
        start_seconds=series.starts,
        count=series.requests,
        ttft_avg_ms=series.ttft_avg_ms,
        ttft_p50_ms=series.ttft_p50_ms,
        ttft_p95_ms=series.ttft_p95_ms,
        input_tokens=series.input_tokens,
        output_tokens=series.output_tokens,
        spend=[format_usd(amount) for amount in series.spend],
    )


# Each field of the log's message is the entry's fact field of its name.
_ENTRY = Answer(activity_pb2.RequestLogEntry, REQUEST_ROWS.renames)


def entry_to_proto(entry: RequestLogEntry) -> activity_pb2.RequestLogEntry:
    return _ENTRY(entry)
