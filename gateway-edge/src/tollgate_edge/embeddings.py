"""``POST /v1/embeddings``: OpenAI's request in, ``RouterService.Embed`` out, OpenAI's response
back with top-level ``providerMetadata`` (where Vercel's gateway puts it for embeddings).

``encoding_format: "base64"`` (what the official Python SDK asks for by default) answers each
vector as standard base64 of its little-endian float32 bytes; ``float`` (the default) as a JSON
array. Unknown body fields are ignored, as OpenAI does.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import web
from tollgate.router.v1 import router_pb2

from tollgate_edge.chat import caller_context
from tollgate_edge.chat_request import _routing as routing_options
from tollgate_edge.chat_response import gateway_metadata
from tollgate_edge.errors import invalid_request
from tollgate_edge.idempotency import idempotency_key, replayed_headers
from tollgate_edge.identity import inference_caller
from tollgate_edge.json_body import json_object
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata, request_id
from tollgate_edge.rate_limit_headers import served_headers
from tollgate_edge.responses import JSON

# No embedding model makes longer vectors (OpenAI's and Gemini's largest: 3,072); a larger
# request is a client's mistake, refused before any provider is called.
MAX_DIMENSIONS = 16384

MAX_INPUTS = 2048
_INPUT = "input"
_INPUT_SHAPE = (
    "`input` must be a non-empty string, an array of non-empty strings, an array of token ids "
    "(integers) or an array of non-empty token id arrays"
)
_TOKEN_MAX = 2**63 - 1
_FORMATS = ("float", "base64")


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _TOKEN_MAX


def _is_tokens(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_token(t) for t in value)


def parse_inputs(raw: Any) -> list[router_pb2.EmbeddingInput]:
    """OpenAI's four input shapes: a string, strings, one token array, token arrays."""
    if isinstance(raw, str):
        if not raw:
            raise invalid_request(_INPUT_SHAPE, _INPUT)
        return [router_pb2.EmbeddingInput(text=raw)]
    if not isinstance(raw, list) or not raw:
        raise invalid_request(_INPUT_SHAPE, _INPUT)
    if len(raw) > MAX_INPUTS:
        raise invalid_request(f"`input` may hold at most {MAX_INPUTS} items", _INPUT)
    if all(isinstance(item, str) and item for item in raw):
        return [router_pb2.EmbeddingInput(text=item) for item in raw]
    if _is_tokens(raw):
        return [router_pb2.EmbeddingInput(tokens=router_pb2.TokenIds(ids=raw))]
    if all(_is_tokens(item) for item in raw):
        return [router_pb2.EmbeddingInput(tokens=router_pb2.TokenIds(ids=item)) for item in raw]
    raise invalid_request(_INPUT_SHAPE, _INPUT)


def parse_embedding_request(
    body: bytes, caller: router_pb2.CallerContext
) -> tuple[router_pb2.EmbedRequest, str]:
    """The RPC and the ``encoding_format`` asked for; each problem a 400 naming its param."""
    return embedding_request_from(json_object(body), caller)


def embedding_request_from(
    data: dict[str, Any], caller: router_pb2.CallerContext
) -> tuple[router_pb2.EmbedRequest, str]:
    """The same for an already decoded request (the AI SDK protocol builds one)."""
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid_request("`model` is required and must be a non-empty string", "model")
    if "input" not in data:
        raise invalid_request("`input` is required", _INPUT)
    rpc = router_pb2.EmbedRequest(
        caller=caller,
        model=model.strip(),
        inputs=parse_inputs(data["input"]),
        routing=routing_options(data),
    )
    dimensions = data.get("dimensions")
    if dimensions is not None:
        if not _is_token(dimensions) or not 1 <= dimensions <= MAX_DIMENSIONS:
            raise invalid_request(
                f"`dimensions` must be an integer from 1 to {MAX_DIMENSIONS}", "dimensions"
            )
        rpc.dimensions = dimensions
    user = data.get("user")
    if user is not None:
        if not isinstance(user, str):
            raise invalid_request("`user` must be a string", "user")
        rpc.user = user
    encoding = data.get("encoding_format")
    if encoding is None:
        encoding = "float"
    if encoding not in _FORMATS:
        raise invalid_request("`encoding_format` must be `float` or `base64`", "encoding_format")
    return rpc, encoding


def encode_base64(values: Sequence[float]) -> str:
    """Standard base64 of the vector's little-endian float32 bytes (what OpenAI sends)."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")


def embeddings_body(response: router_pb2.EmbedResponse, encoding: str) -> bytes:
    """OpenAI's ``list`` of ``embedding`` objects plus ``providerMetadata``."""
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": (
                encode_base64(item.values) if encoding == "base64" else list(item.values)
            ),
        }
        for index, item in enumerate(response.embeddings)
    ]
    tokens = response.usage.input_tokens
    payload: dict[str, Any] = {
        "object": "list",
        "data": data,
        "model": response.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        "providerMetadata": embedding_metadata(response),
    }
    return orjson.dumps(payload)


def embedding_metadata(response: router_pb2.EmbedResponse) -> dict[str, Any]:
    """``{"gateway": {...}}`` of an embedding call."""
    # chat_response renders the gateway metadata of a GenerationFinished: the same message here.
    finished = router_pb2.GenerationFinished(provider_metadata=response.provider_metadata)
    return gateway_metadata(finished, response.generation_id)


async def embed(
    request: web.Request, rpc: router_pb2.EmbedRequest, rid: str
) -> router_pb2.EmbedResponse:
    """``RouterService.Embed`` for this request."""
    response: router_pb2.EmbedResponse = await request.app[PEERS].router.Embed(
        rpc,
        metadata=call_metadata(request, rid),
        timeout=request.app[SETTINGS].generation_deadline_seconds,
    )
    return response


async def create_embeddings(request: web.Request) -> web.Response:
    caller = inference_caller(request)
    rid = request_id(request)
    data = json_object(await request.read())
    rpc, encoding = embedding_request_from(data, caller_context(caller, request, rid))
    key = idempotency_key(request, data)
    if key is not None:
        rpc.idempotency.CopyFrom(key)
    response = await embed(request, rpc, rid)
    return web.Response(
        body=embeddings_body(response, encoding),
        content_type=JSON,
        headers=replayed_headers(response.replayed) | served_headers(response.rate_limit),
    )
