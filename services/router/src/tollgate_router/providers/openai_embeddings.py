"""OpenAI embeddings (``POST {base}/embeddings``), for OpenAI and the OpenAI-compatible family.

Request: ``model``, ``input`` (a string for one text, else an array of strings or of token-id
arrays, passed through), ``dimensions``, ``user`` and always ``encoding_format: "float"`` so the
vectors arrive exactly as the provider computed them. A provider that answers base64 anyway
(little-endian float32) is decoded. Response: ``data[i].embedding`` ordered by ``index``, usage
from ``usage.prompt_tokens``.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Any

import orjson

from tollgate_router.providers.base import ProviderError
from tollgate_router.providers.embedding import (
    EmbeddingCall,
    EmbeddingResult,
    estimate_tokens,
    post_json,
)
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.providers.openai_wire import (
    error_from_body,
    error_from_response,
    request_headers,
)
from tollgate_router.providers.wire import SHAPE_ERRORS, as_text, load_object, malformed


def request_body(call: EmbeddingCall) -> dict[str, Any]:
    inputs: Any = [i if isinstance(i, str) else list(i) for i in call.inputs]
    if len(inputs) == 1 and isinstance(inputs[0], str):
        inputs = inputs[0]
    body: dict[str, Any] = {
        "model": call.provider_model_id,
        "input": inputs,
        "encoding_format": "float",
    }
    if call.dimensions is not None:
        body["dimensions"] = call.dimensions
    if call.user:
        body["user"] = call.user
    return body


def _vector(raw: Any) -> tuple[float, ...]:
    if isinstance(raw, str):  # base64 of little-endian float32
        try:
            data = base64.b64decode(raw, validate=True)
        except binascii.Error as exc:
            raise ValueError("bad base64 embedding") from exc
        if len(data) % 4:
            raise ValueError("base64 embedding is not whole float32 values")
        return struct.unpack(f"<{len(data) // 4}f", data)
    if not isinstance(raw, list):
        raise TypeError("embedding is neither an array nor a string")
    return tuple(float(v) for v in raw)


def parse_response(raw: bytes, call: EmbeddingCall) -> EmbeddingResult:
    """A ``list`` of ``embedding`` objects; one per input or the answer is not usable."""
    body = load_object(raw)
    if body.get("error"):
        raise error_from_body(502, body)
    try:
        items = sorted(body["data"], key=lambda item: int(item.get("index", 0)))
        vectors = tuple(_vector(item["embedding"]) for item in items)
        usage = body.get("usage") or {}
        tokens = usage.get("prompt_tokens")
    except SHAPE_ERRORS as exc:
        raise malformed(exc) from exc
    if len(vectors) != len(call.inputs):
        raise ProviderError(
            502,
            f"the provider returned {len(vectors)} embeddings for {len(call.inputs)} inputs",
            type="api_error",
        )
    if isinstance(tokens, int) and not isinstance(tokens, bool):
        return EmbeddingResult(vectors, tokens, response_id=as_text(body.get("id")))
    texts = tuple(i for i in call.inputs if isinstance(i, str))
    counted = estimate_tokens(texts) + sum(len(i) for i in call.inputs if not isinstance(i, str))
    return EmbeddingResult(vectors, counted, estimated=True)


class OpenAIEmbeddingsAdapter:
    """Speaks ``POST {base_url}/embeddings`` over the process's shared HTTP client."""

    takes_token_ids = True

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    async def embed(self, call: EmbeddingCall) -> EmbeddingResult:
        headers = request_headers(call.api_key, stream=False)
        raw = await post_json(
            self._client,
            f"{call.base_url}/embeddings",
            orjson.dumps(request_body(call)),
            headers,
            deadline=call.timeout,
            parse_error=error_from_response,
        )
        return parse_response(raw, call)
