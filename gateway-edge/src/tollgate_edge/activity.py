"""``GET /v1/activity`` (the activity log) and ``GET /v1/observability`` (aggregates from the
rollups), shapes as docs/admin-api.md describes them; also the ``since`` / ``until`` parameters that
``GET /v1/requests`` shares. Any member of the team may read them, viewers included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from google.protobuf.timestamp_pb2 import Timestamp
from multidict import MultiMapping
from tollgate.activity.v1 import activity_pb2

from tollgate_edge.errors import invalid_request
from tollgate_edge.identity import caller_of
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata
from tollgate_edge.responses import json_response

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_FILTER_LENGTH = 200

_ACTOR_TYPES = {
    activity_pb2.ACTOR_TYPE_USER: "user",
    activity_pb2.ACTOR_TYPE_API_KEY: "api-key",
    activity_pb2.ACTOR_TYPE_SYSTEM: "system",
}
_METRICS = {
    "requests": activity_pb2.METRIC_REQUESTS,
    "ttft": activity_pb2.METRIC_TTFT,
    "tokens": activity_pb2.METRIC_TOKENS,
    "spend": activity_pb2.METRIC_SPEND,
}
_UNITS = {"requests": "count", "ttft": "ms", "tokens": "tokens", "spend": "USD"}
_GRANULARITIES = {
    "minute": activity_pb2.GRANULARITY_MINUTE,
    "hour": activity_pb2.GRANULARITY_HOUR,
    "day": activity_pb2.GRANULARITY_DAY,
}
_GRANULARITY_NAMES = {value: name for name, value in _GRANULARITIES.items()}


def iso_time(ts: Timestamp) -> str:
    """``2024-01-01T00:00:00.000Z`` (UTC, milliseconds)."""
    moment = ts.ToDatetime(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"


def _time_param(query: MultiMapping[str], name: str) -> Timestamp | None:
    raw = query.get(name, "")
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid_request(
            f"`{name}` must be an ISO-8601 time such as 2026-01-31T12:00:00Z", name
        ) from None
    ts = Timestamp()
    ts.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return ts


def time_range(query: MultiMapping[str]) -> dict[str, Timestamp]:
    """The ``since`` / ``until`` query parameters as RPC fields (only those given); 400 for a
    value that is not an ISO-8601 time or a range that ends before it starts."""
    since, until = _time_param(query, "since"), _time_param(query, "until")
    if since is not None and until is not None and until.ToDatetime() < since.ToDatetime():
        raise invalid_request("`until` must not be before `since`", "until")
    fields = {"since": since, "until": until}
    return {name: ts for name, ts in fields.items() if ts is not None}


# The window an observability query without ``since`` covers, ending at ``until`` (or now):
# a few hours of minutes, a week of hours, four weeks of days (each within the bucket limit).
DEFAULT_WINDOWS = {
    "minute": timedelta(hours=6),
    "hour": timedelta(days=7),
    "day": timedelta(days=28),
}


def observability_range(query: MultiMapping[str], granularity: str) -> dict[str, Timestamp]:
    """:func:`time_range`, with ``since`` defaulting to the window ``granularity`` suits."""
    fields = time_range(query)
    if "since" not in fields:
        end = fields["until"].ToDatetime(UTC) if "until" in fields else datetime.now(UTC)
        since = Timestamp()
        since.FromDatetime(end - DEFAULT_WINDOWS[granularity])
        fields["since"] = since
    return fields


def _text_param(query: MultiMapping[str], name: str) -> str:
    value = query.get(name, "")
    if len(value) > MAX_FILTER_LENGTH:
        raise invalid_request(f"`{name}` is longer than {MAX_FILTER_LENGTH} characters", name)
    return value


def _limit(query: MultiMapping[str]) -> int:
    raw = query.get("limit", "")
    if raw == "":
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise invalid_request(f"`limit` must be an integer from 1 to {MAX_LIMIT}", "limit")
    return int(raw)


def activity_row(event: activity_pb2.ActivityEvent) -> dict[str, Any]:
    """One activity-log event in the admin API's shape."""
    target = (
        {"type": event.target_type, "id": event.target_id}
        if event.target_type or event.target_id
        else None
    )
    return {
        "id": event.id,
        "type": event.type,
        "actor": {"id": event.actor_id, "type": _ACTOR_TYPES.get(event.actor_type, "system")},
        "accountType": event.account_type or "team",
        "target": target,
        "projectId": event.project_id or None,
        "details": dict(event.details),
        "createdAt": iso_time(event.created_at),
    }


async def list_activity(request: web.Request) -> web.Response:
    caller = caller_of(request)
    query = request.query
    rpc = activity_pb2.ListActivityRequest(
        team_id=caller.team_id,
        page_size=_limit(query),
        page_token=query.get("cursor", ""),
        type=_text_param(query, "type"),
        actor_id=_text_param(query, "actorId"),
        project_id=_text_param(query, "projectId"),
        **time_range(query),
    )
    reply = await request.app[PEERS].activity.ListActivity(
        rpc, metadata=call_metadata(request), timeout=request.app[SETTINGS].rpc_deadline_seconds
    )
    return json_response(
        {
            "data": [activity_row(event) for event in reply.events],
            "nextCursor": reply.next_page_token or None,
        }
    )


def _choice(query: MultiMapping[str], name: str, choices: dict[str, Any], default: str) -> str:
    value = query.get(name, "") or default
    if value not in choices:
        raise invalid_request(f"`{name}` must be one of {', '.join(choices)}", name)
    return value


def _scope(query: MultiMapping[str]) -> tuple[str, str]:
    """(scope, project id): a ``projectId`` implies project scope; project scope needs one."""
    project_id = _text_param(query, "projectId")
    scopes = {"team": None, "project": None}
    scope = _choice(query, "scope", scopes, "project" if project_id else "team")
    if scope == "project" and not project_id:
        raise invalid_request("`scope=project` needs a `projectId`", "projectId")
    if scope == "team" and project_id:
        raise invalid_request("`projectId` is only for `scope=project`", "projectId")
    return scope, project_id


def _iso_seconds(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def series_points(metric: str, series: activity_pb2.ObservabilitySeries) -> list[dict[str, Any]]:
    """The points of one model's series in the admin API's shape. A TTFT bucket without any
    successful request's time to first token has no point (nothing to average)."""
    times = [_iso_seconds(seconds) for seconds in series.start_seconds]
    if metric == "requests":
        return [{"t": t, "value": count} for t, count in zip(times, series.count, strict=True)]
    if metric == "tokens":
        return [
            {"t": t, "value": {"input": used_in, "output": used_out}}
            for t, used_in, used_out in zip(
                times, series.input_tokens, series.output_tokens, strict=True
            )
        ]
    if metric == "spend":
        return [
            {"t": t, "value": spend or "0"} for t, spend in zip(times, series.spend, strict=True)
        ]
    return [
        {"t": t, "value": round(average, 3), "p50": p50, "p95": p95}
        for t, average, p50, p95 in zip(
            times, series.ttft_avg_ms, series.ttft_p50_ms, series.ttft_p95_ms, strict=True
        )
        if p50
    ]


async def get_observability(request: web.Request) -> web.Response:
    caller = caller_of(request)
    query = request.query
    metric = _choice(query, "metric", _METRICS, "requests")
    granularity = _choice(query, "granularity", _GRANULARITIES, "hour")
    scope, project_id = _scope(query)
    rpc = activity_pb2.GetObservabilityRequest(
        team_id=caller.team_id,
        metric=_METRICS[metric],
        project_id=project_id,
        granularity=_GRANULARITIES[granularity],
        **observability_range(query, granularity),
    )
    reply = await request.app[PEERS].activity.GetObservability(
        rpc, metadata=call_metadata(request), timeout=request.app[SETTINGS].rpc_deadline_seconds
    )
    series = []
    for one in reply.series:
        points = series_points(metric, one)
        if points:
            series.append({"model": one.model, "points": points})
    return json_response(
        {
            "metric": metric,
            "scope": scope,
            "projectId": project_id or None,
            "granularity": _GRANULARITY_NAMES.get(reply.granularity, granularity),
            "since": iso_time(reply.since),
            "until": iso_time(reply.until),
            "unit": _UNITS[metric],
            "series": series,
        }
    )
