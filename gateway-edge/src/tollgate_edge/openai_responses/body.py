"""The response object (``object: "response"``) and the stream's framing: each event as
``event: <type>`` + ``data: <json>`` with the ``type`` and a ``sequence_number`` counting every
event of the stream from 0, as OpenAI frames them."""

from __future__ import annotations

from typing import Any, Final

import orjson
from tollgate.router.v1 import router_pb2

from tollgate_edge.chat_response import gateway_metadata
from tollgate_edge.errors import ApiError

RESPONSE_PREFIX: Final = "resp_"
GENERATION_PREFIX: Final = "gen_"
# finish reason → the reason a response is ``incomplete``
_INCOMPLETE: Final = {"length": "max_output_tokens", "content_filter": "content_filter"}


def response_id(generation_id: str) -> str:
    """``resp_<ULID>`` of ``gen_<ULID>``: the response's usage, bill and request-log row are
    the generation's (``GET /v1/generation?id=gen_<ULID>``)."""
    return RESPONSE_PREFIX + generation_id.removeprefix(GENERATION_PREFIX)


def generation_id(resp_id: str) -> str:
    return GENERATION_PREFIX + resp_id.removeprefix(RESPONSE_PREFIX)


def usage_object(usage: router_pb2.Usage | None) -> dict[str, Any] | None:
    """Usage in the Responses API's terms (``input_tokens`` includes the cached ones)."""
    if usage is None:
        return None
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens or usage.input_tokens + usage.output_tokens,
    }


def response_object(
    resp_id: str, created_at: int, model: str, echo: dict[str, Any]
) -> dict[str, Any]:
    """A response in progress, with no output yet."""
    return {
        "id": resp_id,
        "object": "response",
        "created_at": created_at,
        "status": "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "model": model,
        "output": [],
        **echo,
        "service_tier": "default",
        "usage": None,
    }


def finish(
    body: dict[str, Any],
    output: list[dict[str, Any]],
    finished: router_pb2.GenerationFinished,
    usage: router_pb2.Usage | None,
) -> None:
    """``body`` once the generation finished: completed, or incomplete when it was cut short."""
    body["output"] = output
    body["usage"] = usage_object(usage)
    reason = _INCOMPLETE.get(finished.finish_reason)
    body["status"] = "completed" if reason is None else "incomplete"
    body["incomplete_details"] = None if reason is None else {"reason": reason}
    body["providerMetadata"] = gateway_metadata(finished, generation_id(body["id"]))


def fail(
    body: dict[str, Any],
    output: list[dict[str, Any]],
    error: ApiError,
    usage: router_pb2.Usage | None,
) -> None:
    """``body`` once the generation failed after it started."""
    body["output"] = output
    body["usage"] = usage_object(usage)
    body["status"] = "failed"
    body["error"] = {"code": error.code or "server_error", "message": error.message}


class EventWriter:
    """Frames events, numbering them in the order they are written."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next = 0

    def frame(self, kind: str, payload: dict[str, Any]) -> bytes:
        data = {"type": kind, **payload, "sequence_number": self._next}
        self._next += 1
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

    def frames(self, events: list[tuple[str, dict[str, Any]]]) -> bytes:
        return b"".join(self.frame(kind, payload) for kind, payload in events)
