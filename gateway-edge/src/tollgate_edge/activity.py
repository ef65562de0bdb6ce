"""``GET /v1/activity`` (the activity log) and ``GET /v1/observability`` (aggregates from the
rollups), shapes as ADMIN-API.md fixes them; also the ``since`` / ``until`` parameters that
``GET /v1/requests`` shares. Any member of the team may read them, viewers included."""

from __future__ import annotations

from datetime import UTC, datetime
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


def point_value(metric: str, point: activity_pb2.ObservabilityPoint) -> dict[str, Any] | None:
    """One point of a series in the admin API's shape; None for a TTFT bucket without any
    successful request (nothing to average)."""
    t = iso_time(point.start)
    if metric == "requests":
        return {"t": t, "value": point.count}
    if metric == "tokens":
        return {"t": t, "value": {"input": point.input_tokens, "output": point.output_tokens}}
    if metric == "spend":
        return {"t": t, "value": point.spend or "0"}
    if point.ttft_p50_ms == 0:
        return None
    return {
        "t": t,
        "value": round(point.ttft_avg_ms, 3),
        "p50": point.ttft_p50_ms,
        "p95": point.ttft_p95_ms,
    }


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
        **time_range(query),
    )
    reply = await request.app[PEERS].activity.GetObservability(
        rpc, metadata=call_metadata(request), timeout=request.app[SETTINGS].rpc_deadline_seconds
    )
    series = []
    for one in reply.series:
        points = [value for p in one.points if (value := point_value(metric, p)) is not None]
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
