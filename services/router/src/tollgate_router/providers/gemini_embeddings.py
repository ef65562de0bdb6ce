"""Google Gemini embeddings: ``POST {base}/models/{model}:batchEmbedContents`` with
``x-goog-api-key`` (Gemini API reference, "Embeddings").

Request: ``{"requests": [{"model": "models/{model}", "content": {"parts": [{"text"}]},
"outputDimensionality"?}]}``, one request per input (each must name the model of the URL), at
most 100 per call (the API's limit; more inputs are sent in several calls, in order). Response:
``{"embeddings": [{"values": [...]}]}`` in request order.

Usage: the Gemini API's embedding responses carry no token count (Vertex AI adds
``statistics.tokenCount`` per embedding, used when present); otherwise the input tokens are
estimated at 4 characters a token and the result is marked estimated. Gemini takes text only:
token-id inputs are refused with a 400 before any call.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson

from tollgate_router.providers.base import ProviderError
from tollgate_router.providers.embedding import (
    EmbeddingCall,
    EmbeddingResult,
    estimate_tokens,
    post_json,
)
from tollgate_router.providers.gemini_wire import error_from_body, error_from_response
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.providers.wire import SHAPE_ERRORS, load_object, malformed

MAX_BATCH = 100


def _model(call: EmbeddingCall) -> str:
    return call.provider_model_id.removeprefix("models/")


def texts_of(call: EmbeddingCall) -> tuple[str, ...]:
    texts = tuple(i for i in call.inputs if isinstance(i, str))
    if len(texts) != len(call.inputs):
        raise ProviderError(
            400,
            "this model's provider (Gemini API) embeds text only, not token arrays",
            type="invalid_request_error",
            param="input",
        )
    return texts


def request_url(call: EmbeddingCall) -> str:
    return f"{call.base_url}/models/{quote(_model(call), safe='-._~')}:batchEmbedContents"


def request_body(call: EmbeddingCall, texts: tuple[str, ...]) -> dict[str, Any]:
    name = f"models/{_model(call)}"
    requests: list[dict[str, Any]] = []
    for text in texts:
        request: dict[str, Any] = {"model": name, "content": {"parts": [{"text": text}]}}
        if call.dimensions is not None:
            request["outputDimensionality"] = call.dimensions
        requests.append(request)
    return {"requests": requests}


def parse_response(raw: bytes, texts: tuple[str, ...]) -> EmbeddingResult:
    body = load_object(raw)
    if body.get("error"):
        raise error_from_body(0, body)
    try:
        items = body["embeddings"]
        vectors = tuple(tuple(float(v) for v in item["values"]) for item in items)
        counts = [(item.get("statistics") or {}).get("tokenCount") for item in items]
    except SHAPE_ERRORS as exc:
        raise malformed(exc) from exc
    if len(vectors) != len(texts):
        raise ProviderError(
            502,
            f"the provider returned {len(vectors)} embeddings for {len(texts)} inputs",
            type="api_error",
        )
    reported = [int(c) for c in counts if isinstance(c, int | float) and not isinstance(c, bool)]
    if counts and len(reported) == len(counts):
        return EmbeddingResult(vectors, sum(reported))
    return EmbeddingResult(vectors, estimate_tokens(texts), estimated=True)


class GeminiEmbeddingsAdapter:
    takes_token_ids = False  # the Gemini API embeds text only

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    async def embed(self, call: EmbeddingCall) -> EmbeddingResult:
        texts = texts_of(call)
        headers = {
            # The key travels in a header, never in the URL (URLs end up in logs).
            "x-goog-api-key": call.api_key,
            "content-type": "application/json",
            "accept": "application/json",
        }
        vectors: list[tuple[float, ...]] = []
        tokens, estimated = 0, False
        for start in range(0, len(texts), MAX_BATCH):
            batch = texts[start : start + MAX_BATCH]
            raw = await post_json(
                self._client,
                request_url(call),
                orjson.dumps(request_body(call, batch)),
                headers,
                deadline=call.timeout,
                parse_error=error_from_response,
            )
            result = parse_response(raw, batch)
            vectors.extend(result.vectors)
            tokens += result.input_tokens
            estimated = estimated or result.estimated
        return EmbeddingResult(tuple(vectors), tokens, estimated=estimated)
