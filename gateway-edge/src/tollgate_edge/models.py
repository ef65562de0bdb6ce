"""``GET /v1/models`` and ``GET /v1/models/{creator}/{model}`` (OpenAI list/retrieve shapes)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from tollgate.router.v1 import router_pb2

from tollgate_edge.errors import ApiError
from tollgate_edge.identity import caller_of
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata
from tollgate_edge.responses import json_response


def _tiers(base: str, tiers: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Vercel's tier list: ``min`` is the first prompt size (input tokens) a tier prices,
    ``max`` the first it no longer does; the base price is the first tier."""
    bounds = [threshold + 1 for threshold, _ in tiers]
    costs = [base] + [cost for _, cost in tiers]
    starts = [0, *bounds]
    rows: list[dict[str, Any]] = []
    for index, cost in enumerate(costs):
        row: dict[str, Any] = {"cost": cost, "min": starts[index]}
        if index < len(bounds):
            row["max"] = bounds[index]
        rows.append(row)
    return rows


def pricing_object(pricing: router_pb2.Pricing, model_type: str) -> dict[str, Any]:
    """The ``pricing`` of a model as in the Vercel model list: USD per token (``image`` per
    image) as decimal strings, optional prices omitted, long-context tiers as ``*_tiers``."""
    prices: dict[str, Any] = {}
    if model_type != "image" or pricing.input not in ("", "0"):
        prices["input"] = pricing.input or "0"
    if model_type == "language" or pricing.output not in ("", "0"):
        prices["output"] = pricing.output or "0"
    for key in ("input_cache_read", "input_cache_write", "image"):
        if value := getattr(pricing, key):
            prices[key] = value
    if pricing.tiers:
        for key in ("input", "output", "input_cache_read", "input_cache_write"):
            base = getattr(pricing, key)
            if not base:
                continue
            steps = [(t.above_input_tokens, getattr(t, key) or base) for t in pricing.tiers]
            prices[f"{key}_tiers"] = _tiers(base, steps)
    return prices


def model_object(model: router_pb2.Model) -> dict[str, Any]:
    """One entry of ``GET /v1/models`` (OpenAI's model object plus Vercel's fields); a model
    no provider can price has no ``pricing``."""
    body: dict[str, Any] = {
        "id": model.id,
        "object": "model",
        "created": model.released,
        "owned_by": model.creator,
        "name": model.name,
        "description": model.description,
        "context_window": model.context_window,
        "max_tokens": model.max_output_tokens,
        "type": model.type,
        "tags": list(model.tags),
    }
    if model.HasField("pricing"):
        body["pricing"] = pricing_object(model.pricing, model.type)
    return body


async def list_models(request: web.Request) -> web.Response:
    caller_of(request)
    reply = await request.app[PEERS].router.ListModels(
        router_pb2.ListModelsRequest(),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response({"object": "list", "data": [model_object(m) for m in reply.models]})


async def get_model(request: web.Request) -> web.Response:
    """The id may arrive as ``openai/gpt-4o`` or percent-encoded as ``openai%2Fgpt-4o`` (the
    official SDK); aiohttp matches on the still-encoded path and decodes the match."""
    caller_of(request)
    model_id = request.match_info["model_id"]
    if not model_id.strip("/"):
        raise ApiError(404, "model_not_found", "model not found")
    reply = await request.app[PEERS].router.GetModel(
        router_pb2.GetModelRequest(id=model_id),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response(model_object(reply.model))
