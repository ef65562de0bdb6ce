"""``GET /v1/models`` and ``GET /v1/models/{creator}/{model}`` (OpenAI list/retrieve shapes)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from tollgate.router.v1 import router_pb2

from tollgate_edge.errors import ApiError
from tollgate_edge.identity import caller_of
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata
from tollgate_edge.responses import json_response


def model_object(model: router_pb2.Model) -> dict[str, Any]:
    pricing = model.pricing
    prices: dict[str, str] = {"input": pricing.input or "0", "output": pricing.output or "0"}
    if pricing.input_cache_read:
        prices["input_cache_read"] = pricing.input_cache_read
    if pricing.input_cache_write:
        prices["input_cache_write"] = pricing.input_cache_write
    return {
        "id": model.id,
        "object": "model",
        "created": model.released,
        "owned_by": model.creator,
        "name": model.name,
        "description": model.description,
        "context_window": model.context_window,
        "max_tokens": model.max_output_tokens,
        "type": model.type,
        "tags": [],
        "pricing": prices,
    }


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
