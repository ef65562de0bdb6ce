"""``GET /v1/report`` (docs/billing.md): the caller's team's spend, summed per day,
hour, end user, model, tag, provider or credential type; amounts as exact JSON numbers. A
generation with several tags counts in each tag's group."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from tollgate.billing.v1 import billing_pb2

from tollgate_edge.errors import invalid_request
from tollgate_edge.identity import caller_of
from tollgate_edge.lookup import usd_number
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata
from tollgate_edge.responses import json_response


def report_row(row: billing_pb2.SpendReportRow, dimension: str) -> dict[str, Any]:
    return {
        dimension: row.key,
        "total_cost": usd_number(row.total_cost),
        "market_cost": usd_number(row.market_cost),
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
        "cached_input_tokens": row.cached_input_tokens,
        "cache_creation_input_tokens": row.cache_creation_input_tokens,
        "reasoning_tokens": row.reasoning_tokens,
        "request_count": row.request_count,
    }


async def get_report(request: web.Request) -> web.Response:
    caller = caller_of(request)
    query = request.query
    for param in ("start_date", "end_date"):
        if not query.get(param):
            raise invalid_request(f"query parameter `{param}` is required", param)
    group_by = query.get("group_by", "") or "day"
    date_part = query.get("date_part", "") or "day"
    reply = await request.app[PEERS].billing.GetSpendReport(
        billing_pb2.GetSpendReportRequest(
            team_id=caller.team_id,
            start_date=query["start_date"],
            end_date=query["end_date"],
            group_by=group_by,
            date_part=date_part,
            model=query.get("model", ""),
            provider=query.get("provider", ""),
            credential_type=query.get("credential_type", ""),
            user=query.get("user_id", ""),
            tags=[t.strip() for t in query.get("tags", "").split(",") if t.strip()],
        ),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    dimension = "hour" if group_by == "day" and date_part == "hour" else group_by
    return json_response({"results": [report_row(row, dimension) for row in reply.rows]})
