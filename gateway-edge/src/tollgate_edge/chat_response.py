"""OpenAI chat completion JSON and SSE chunks, built from the router's events.

The SSE framing is OpenAI's: ``data: <json>\\n\\n`` per chunk, the same
``id`` (the generation id), ``created`` and ``model`` on every chunk, the role-only first delta,
``provider_metadata`` on the last content chunk (as Vercel's gateway places it), the ``include_usage`` chunk with
``choices: []`` and the final ``data: [DONE]``. Chunk bytes are assembled around one pre-encoded
prefix so a text delta costs one small ``orjson.dumps``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
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
                "skipped": [_attempt(a) for a in routing.skipped],
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


class ReasoningDetails:
    """``reasoning_details`` built from the router's reasoning deltas: text runs into the open
    ``reasoning.text`` detail of its format until a signature closes it; encrypted data is a
    detail of its own. :meth:`add` also returns the piece to stream (with its detail ``index``,
    so clients can merge the pieces of one detail)."""

    __slots__ = ("_open", "details", "texts")

    def __init__(self) -> None:
        self.details: list[dict[str, Any]] = []
        self.texts: list[str] = []
        self._open = False

    def add(self, delta: router_pb2.ReasoningDelta) -> dict[str, Any]:
        fmt = delta.format or "unknown"
        if delta.data:
            self._open = False
            encrypted = {"type": "reasoning.encrypted", "data": delta.data, "format": fmt}
            self.details.append(dict(encrypted))
            return {**encrypted, "index": len(self.details) - 1}
        if not (self._open and self.details[-1]["format"] == fmt):
            self.details.append({"type": "reasoning.text", "text": "", "format": fmt})
            self._open = True
        current = self.details[-1]
        piece: dict[str, Any] = {
            "type": "reasoning.text",
            "format": fmt,
            "index": len(self.details) - 1,
        }
        if delta.text:
            self.texts.append(delta.text)
            current["text"] += delta.text
            piece["text"] = delta.text
        if delta.signature:
            current["signature"] = delta.signature
            piece["signature"] = delta.signature
            self._open = False
        return piece


class ToolCalls:
    """Tool calls put together from their deltas (non-streaming answers)."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, Any]] = {}

    def add(self, delta: router_pb2.ToolCallDelta) -> None:
        call = self._calls.setdefault(
            delta.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if delta.id:
            call["id"] = delta.id
        if delta.name:
            call["function"]["name"] = delta.name
        call["function"]["arguments"] += delta.arguments

    def rendered(self) -> list[dict[str, Any]]:
        return [self._calls[i] for i in sorted(self._calls)]


def tool_call_chunk(delta: router_pb2.ToolCallDelta) -> dict[str, Any]:
    """One ``delta.tool_calls`` entry as OpenAI frames it: the first piece of a call carries
    ``id``, ``type`` and ``function.name`` (arguments may be empty), later ones only
    ``index`` and an arguments fragment."""
    if delta.id or delta.name:
        return {
            "index": delta.index,
            "id": delta.id,
            "type": "function",
            "function": {"name": delta.name, "arguments": delta.arguments},
        }
    return {"index": delta.index, "function": {"arguments": delta.arguments}}


def image_entry(delta: router_pb2.ImageDelta) -> dict[str, Any]:
    """One ``message.images`` / ``delta.images`` entry, as Vercel's gateway shapes it."""
    return {"type": "image_url", "image_url": {"url": delta.url}}


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

    def delta(self, delta: dict[str, Any]) -> bytes:
        return self._prefix + orjson.dumps(delta) + _OPEN_CHOICE_END + self._choice_end

    def tool_call(self, delta: router_pb2.ToolCallDelta) -> bytes:
        return self.delta({"tool_calls": [tool_call_chunk(delta)]})

    def reasoning(self, text: str, detail: dict[str, Any]) -> bytes:
        delta: dict[str, Any] = {"reasoning": text} if text else {}
        delta["reasoning_details"] = [detail]
        return self.delta(delta)

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


@dataclass(slots=True)
class Answer:
    """What a non-streaming generation said, gathered from its events."""

    texts: list[str] = field(default_factory=list)
    tool_calls: ToolCalls = field(default_factory=ToolCalls)
    reasoning: ReasoningDetails | None = None  # None: reasoning left out (or none came)
    images: list[dict[str, Any]] = field(default_factory=list)  # generated, in order

    def message(self) -> dict[str, Any]:
        calls = self.tool_calls.rendered()
        text = "".join(self.texts)
        message: dict[str, Any] = {
            "role": "assistant",
            # OpenAI's shape: null content beside tool calls when the model said nothing.
            "content": None if calls and not text else text,
            "refusal": None,
        }
        if calls:
            message["tool_calls"] = calls
        if self.images:
            message["images"] = self.images
        if self.reasoning is not None and self.reasoning.details:
            message["reasoning"] = "".join(self.reasoning.texts) or None  # only signatures
            message["reasoning_details"] = self.reasoning.details
        return message


def completion_body(
    started: router_pb2.GenerationStarted,
    model: str,
    answer: Answer,
    finished: router_pb2.GenerationFinished,
    usage: router_pb2.Usage | None,
) -> bytes:
    """One ``chat.completion`` object (a non-streaming answer)."""
    message = answer.message()
    message["provider_metadata"] = gateway_metadata(finished, started.generation_id)
    body: dict[str, Any] = {
        "id": started.generation_id,
        "object": "chat.completion",
        "created": created_seconds(started),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finished.finish_reason or "stop",
            }
        ],
        "usage": usage_object(usage),
    }
    if started.system_fingerprint:
        body["system_fingerprint"] = started.system_fingerprint
    return orjson.dumps(body)
