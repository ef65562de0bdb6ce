"""OpenAI chat completion JSON and SSE chunks, built from the router's events.

The SSE framing is OpenAI's (research/protocols.md §5): ``data: <json>\\n\\n`` per chunk, the same
``id`` (the generation id), ``created`` and ``model`` on every chunk, the role-only first delta,
``provider_metadata`` on the last content chunk (DESIGN §3), the ``include_usage`` chunk with
``choices: []`` and the final ``data: [DONE]``. Chunk bytes are assembled around one pre-encoded
prefix so a text delta costs one small ``orjson.dumps``.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.router.v1 import router_pb2

DONE = b"data: [DONE]\n\n"
_ROLE_DELTA = b'{"role":"assistant","content":""}'
_OPEN_CHOICE_END = b',"logprobs":null,"finish_reason":null}]'


def _millis(ts: Timestamp) -> int | None:
    if not ts.seconds and not ts.nanos:
        return None
    return ts.seconds * 1000 + ts.nanos // 1_000_000


def _attempt(attempt: router_pb2.ProviderAttempt) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "provider": attempt.provider,
        "providerApiModelId": attempt.provider_api_model_id,
        "credentialType": attempt.credential_type,
        "success": attempt.success,
        "startTime": _millis(attempt.start_time),
        "endTime": _millis(attempt.end_time),
        "statusCode": attempt.status_code or None,
        "providerResponseId": attempt.provider_response_id or None,
    }
    if attempt.model_id:
        rendered["modelId"] = attempt.model_id
    if attempt.error_message:
        rendered["error"] = attempt.error_message
    if attempt.skipped:
        rendered["skipped"] = True
    return rendered


def _model_attempts(routing: router_pb2.RoutingInfo) -> list[dict[str, Any]]:
    """The attempts grouped by model (the requested one, then the fallback models tried)."""
    by_model: dict[str, list[router_pb2.ProviderAttempt]] = {}
    for attempt in routing.attempts:
        if not attempt.skipped:
            by_model.setdefault(attempt.model_id or routing.canonical_slug, []).append(attempt)
    return [
        {
            "modelId": model_id,
            "canonicalSlug": model_id,
            "success": any(a.success for a in attempts),
            "providerAttemptCount": len(attempts),
            "providerAttempts": [_attempt(a) for a in attempts],
        }
        for model_id, attempts in by_model.items()
    ]


def gateway_metadata(finished: router_pb2.GenerationFinished, generation_id: str) -> dict[str, Any]:
    """``{"gateway": {...}}`` with the camelCase keys of Vercel's ``providerMetadata.gateway``."""
    meta = finished.provider_metadata.gateway
    routing = meta.routing
    model_attempts = _model_attempts(routing)
    return {
        "gateway": {
            "generationId": meta.generation_id or generation_id,
            "cost": meta.cost or "0",
            "marketCost": meta.market_cost or "0",
            "routing": {
                "originalModelId": routing.original_model_id,
                "resolvedProvider": routing.resolved_provider,
                "resolvedProviderApiModelId": routing.resolved_provider_api_model_id,
                "finalProvider": routing.final_provider,
                "attempts": [_attempt(a) for a in routing.attempts],
                "fallbacksAvailable": list(routing.fallbacks_available),
                "canonicalSlug": routing.canonical_slug,
                "planningReasoning": routing.planning_reasoning,
                "modelAttemptCount": len(model_attempts),
                "modelAttempts": model_attempts,
                "totalProviderAttemptCount": sum(not a.skipped for a in routing.attempts),
            },
        }
    }


def usage_object(usage: router_pb2.Usage | None) -> dict[str, Any]:
    """OpenAI's ``CompletionUsage`` (zeros when the router reported none)."""
    if usage is None:
        usage = router_pb2.Usage()
    prompt_details: dict[str, int] = {"cached_tokens": usage.cached_input_tokens}
    if usage.cache_write_tokens:
        prompt_details["cache_write_tokens"] = usage.cache_write_tokens
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens or usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def created_seconds(started: router_pb2.GenerationStarted) -> int:
    return started.created.seconds or int(time.time())


class ChunkEncoder:
    """Encodes the chunks of one streamed completion."""

    __slots__ = ("_choice_end", "_head", "_prefix")

    def __init__(
        self, started: router_pb2.GenerationStarted, model: str, include_usage: bool
    ) -> None:
        head: dict[str, Any] = {
            "id": started.generation_id,
            "object": "chat.completion.chunk",
            "created": created_seconds(started),
            "model": model,
        }
        if started.system_fingerprint:
            head["system_fingerprint"] = started.system_fingerprint
        # `{"id":...,"model":"..."` without its closing brace.
        self._head = b"data: " + orjson.dumps(head)[:-1]
        self._prefix = self._head + b',"choices":[{"index":0,"delta":'
        self._choice_end = b',"usage":null}\n\n' if include_usage else b"}\n\n"

    def role(self) -> bytes:
        return self._prefix + _ROLE_DELTA + _OPEN_CHOICE_END + self._choice_end

    def text(self, text: str) -> bytes:
        return self._prefix + orjson.dumps({"content": text}) + _OPEN_CHOICE_END + self._choice_end

    def finish(self, finish_reason: str, metadata: dict[str, Any]) -> bytes:
        return (
            self._prefix
            + orjson.dumps({"provider_metadata": metadata})
            + b',"logprobs":null,"finish_reason":'
            + orjson.dumps(finish_reason or "stop")
            + b"}]"
            + self._choice_end
        )

    def usage(self, usage: router_pb2.Usage | None) -> bytes:
        return self._head + b',"choices":[],"usage":' + orjson.dumps(usage_object(usage)) + b"}\n\n"


def completion_body(
    started: router_pb2.GenerationStarted,
    model: str,
    text: str,
    finished: router_pb2.GenerationFinished,
    usage: router_pb2.Usage | None,
) -> bytes:
    """One ``chat.completion`` object (a non-streaming answer)."""
    body: dict[str, Any] = {
        "id": started.generation_id,
        "object": "chat.completion",
        "created": created_seconds(started),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": text,
                    "refusal": None,
                    "provider_metadata": gateway_metadata(finished, started.generation_id),
                },
                "logprobs": None,
                "finish_reason": finished.finish_reason or "stop",
            }
        ],
        "usage": usage_object(usage),
    }
    if started.system_fingerprint:
        body["system_fingerprint"] = started.system_fingerprint
    return orjson.dumps(body)
