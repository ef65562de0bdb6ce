"""``POST /v1/ai/embedding-model``: the AI SDK gateway provider's embedding call.

Model id in the ``ai-model-id`` header; body ``{"input": <string or strings>, "providerOptions"?}``
(2.x; 3.x and later send ``values`` instead, accepted too); answer ``{"embeddings": [[...]],
"usage": {"tokens"}, "providerMetadata": {"gateway": {...}}}`` (docs/ai-sdk.md). The
call is ``/v1/embeddings``'s: same validation, same ``RouterService.Embed``. A size asked for in
the upstream provider's options (``openai.dimensions``, ``google.outputDimensionality``) becomes
``dimensions``.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from tollgate_edge.aisdk.call_options import renamed
from tollgate_edge.aisdk.errors import native_errors, required_header
from tollgate_edge.chat import caller_context
from tollgate_edge.embeddings import embed, embedding_metadata, embedding_request_from
from tollgate_edge.errors import ApiError
from tollgate_edge.idempotency import idempotency_key, replayed_headers
from tollgate_edge.identity import inference_caller
from tollgate_edge.json_body import json_object
from tollgate_edge.peers import request_id
from tollgate_edge.rate_limit_headers import served_headers
from tollgate_edge.responses import JSON

MODEL_HEADER = "ai-model-id"
_DIMENSIONS = (("openai", "dimensions"), ("google", "outputDimensionality"))


def embeddings_request(options: dict[str, Any], model: str) -> dict[str, Any]:
    """The OpenAI embeddings request of these options."""
    body: dict[str, Any] = {"model": model, "input": options.get("input", options.get("values"))}
    if "input" not in options and "values" not in options:
        del body["input"]
    provider_options = options.get("providerOptions")
    if provider_options is not None:
        body["providerOptions"] = provider_options
    if isinstance(provider_options, dict):
        for provider, key in _DIMENSIONS:
            settings = provider_options.get(provider)
            if isinstance(settings, dict) and settings.get(key) is not None:
                body["dimensions"] = settings[key]
                break
    return body


@native_errors(MODEL_HEADER)
async def embedding_model(request: web.Request) -> web.Response:
    caller = inference_caller(request)
    rid = request_id(request)
    model = required_header(request, MODEL_HEADER)
    body = embeddings_request(json_object(await request.read()), model)
    try:
        rpc, _ = embedding_request_from(body, caller_context(caller, request, rid))
    except ApiError as exc:
        raise renamed(exc) from None
    key = idempotency_key(request, body)
    if key is not None:
        rpc.idempotency.CopyFrom(key)
    response = await embed(request, rpc, rid)
    payload = {
        "embeddings": [list(item.values) for item in response.embeddings],
        "usage": {"tokens": response.usage.input_tokens},
        "providerMetadata": embedding_metadata(response),
    }
    return web.Response(
        body=orjson.dumps(payload),
        content_type=JSON,
        headers=replayed_headers(response.replayed) | served_headers(response.rate_limit),
    )
