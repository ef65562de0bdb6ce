"""``GET /v1/ai/config``: the models the AI SDK's ``gateway.getAvailableModels()`` lists
(docs/ai-sdk.md).

Every entry must pass the client's schema or the whole call fails: ``pricing`` (when the model has
a price) holds ``input`` and ``output`` as decimal strings of USD per token, with
``input_cache_read`` / ``input_cache_write`` when set; ``specification.specificationVersion`` is
the literal the client expects (``v2`` on ``/v1/ai``, ``v3`` on ``/v3/ai``); only ``language``, ``embedding`` and ``image`` models are
listed (1.x clients reject any other ``modelType``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from tollgate.router.v1 import router_pb2

from tollgate_edge.aisdk.versions import spec_of
from tollgate_edge.identity import caller_of
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata
from tollgate_edge.responses import json_response

MODEL_TYPES = ("language", "embedding", "image")


def model_entry(model: router_pb2.Model, specification_version: str) -> dict[str, Any]:
    creator, _, name = model.id.partition("/")
    entry: dict[str, Any] = {
        "id": model.id,
        "name": model.name or model.id,
        "description": model.description or None,
        "specification": {
            "specificationVersion": specification_version,
            "provider": creator if name else model.creator,
            "modelId": name or model.id,
        },
        "modelType": model.type or "language",
    }
    if model.HasField("pricing"):
        pricing = model.pricing
        prices = {"input": pricing.input or "0", "output": pricing.output or "0"}
        for key in ("input_cache_read", "input_cache_write"):
            if value := getattr(pricing, key):
                prices[key] = value
        entry["pricing"] = prices
    return entry


async def get_config(request: web.Request) -> web.Response:
    caller_of(request)
    reply = await request.app[PEERS].router.ListModels(
        router_pb2.ListModelsRequest(),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    version = spec_of(request).name
    models = [
        model_entry(m, version) for m in reply.models if (m.type or "language") in MODEL_TYPES
    ]
    return json_response({"models": models})
