"""``GET /v1/generation`` (the AI SDK's ``getGenerationInfo()`` shape, docs/ai-sdk.md) and
``GET /v1/requests`` (the request log, docs/activity.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.activity.v1 import activity_pb2
from tollgate.billing.v1 import billing_pb2
from tollgate_common.money import format_usd, parse_usd

from tollgate_edge.activity import time_range
from tollgate_edge.errors import ApiError, invalid_request
from tollgate_edge.identity import caller_of
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata
from tollgate_edge.responses import json_response

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def iso_utc(ts: Timestamp) -> str:
    """``2024-01-01T00:00:00.000Z``."""
    moment = datetime.fromtimestamp(ts.seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ts.nanos // 1_000_000:03d}Z"


def usd_number(text: str) -> orjson.Fragment:
    """A decimal string as an exact JSON number (no float rounding)."""
    try:
        return orjson.Fragment(format_usd(parse_usd(text)).encode())
    except ValueError:
        raise ApiError(500, "internal_server_error", "internal error") from None


def generation_object(gen: billing_pb2.Generation) -> dict[str, Any]:
    """Exactly the 18 fields the AI SDK's ``getGenerationInfo`` requires."""
    cost = usd_number(gen.cost)
    return {
        "id": gen.id,
        "total_cost": cost,
        "upstream_inference_cost": usd_number(gen.market_cost),
        "usage": cost,
        "created_at": iso_utc(gen.created_at),
        "model": gen.model,
        "is_byok": gen.credential_type == "byok",
        "provider_name": gen.provider,
        "streamed": gen.streamed,
        "finish_reason": gen.finish_reason,
        "latency": gen.ttft_ms,
        "generation_time": gen.latency_ms,
        "native_tokens_prompt": gen.input_tokens,
        "native_tokens_completion": gen.output_tokens,
        "native_tokens_reasoning": gen.reasoning_tokens,
        "native_tokens_cached": gen.cached_input_tokens,
        "native_tokens_cache_creation": gen.cache_write_tokens,
        "billable_web_search_calls": 0,
    }


async def get_generation(request: web.Request) -> web.Response:
    caller = caller_of(request)
    generation_id = request.query.get("id", "").strip()
    if not generation_id:
        raise invalid_request("query parameter `id` is required", "id")
    reply = await request.app[PEERS].billing.GetGeneration(
        billing_pb2.GetGenerationRequest(team_id=caller.team_id, generation_id=generation_id),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response({"data": generation_object(reply.generation)})


def request_row(entry: activity_pb2.RequestLogEntry) -> dict[str, Any]:
    """One request-log row: camelCase, money as decimal strings, never prompt text."""
    return {
        "generationId": entry.generation_id,
        "createdAt": iso_utc(entry.created_at),
        "projectId": entry.project_id or None,
        "keyId": entry.key_id or None,
        "model": entry.model,
        "provider": entry.provider,
        "credentialType": entry.credential_type,
        "inputTokens": entry.input_tokens,
        "outputTokens": entry.output_tokens,
        "cachedInputTokens": entry.cached_input_tokens,
        "reasoningTokens": entry.reasoning_tokens,
        "cost": entry.cost or "0",
        "marketCost": entry.market_cost or "0",
        "ttftMs": entry.ttft_ms,
        "latencyMs": entry.latency_ms,
        "streamed": entry.streamed,
        "finishReason": entry.finish_reason,
        "status": entry.status,
        "appTitle": entry.app_title or None,
        "appReferer": entry.app_referer or None,
        "attempts": entry.attempts,
        "surface": entry.surface or None,
    }


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise invalid_request(f"`limit` must be an integer from 1 to {MAX_LIMIT}", "limit")
    return int(raw)


async def list_requests(request: web.Request) -> web.Response:
    caller = caller_of(request)
    query = request.query
    rpc = activity_pb2.ListRequestsRequest(
        team_id=caller.team_id,
        page_size=_limit(query.get("limit")),
        page_token=query.get("cursor", ""),
        model=query.get("model", ""),
        provider=query.get("provider", ""),
        project_id=query.get("projectId", ""),
        **time_range(query),
    )
    reply = await request.app[PEERS].activity.ListRequests(
        rpc,
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response(
        {
            "data": [request_row(entry) for entry in reply.entries],
            "nextCursor": reply.next_page_token or None,
        }
    )
