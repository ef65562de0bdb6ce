"""Anthropic Messages response bodies as the fake upstream sends them: the ``message`` object,
the SSE events of a streamed message (``message_start``, ``content_block_start`` / ``_delta`` /
``_stop``, ``ping``, ``message_delta``, ``message_stop``) and the error body, shaped like
Anthropic's documentation ("Messages", "Streaming Messages", "Errors")."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import orjson

ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: (
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your rate limit."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}


def request_id() -> str:
    return f"req_{secrets.token_urlsafe(18)}"


def error_body(status: int, kind: str = "", message: str = "") -> bytes:
    default_kind, default_message = ERRORS.get(
        status, ("api_error" if status >= 500 else "invalid_request_error", "Error.")
    )
    return orjson.dumps(
        {
            "type": "error",
            "error": {"type": kind or default_kind, "message": message or default_message},
            "request_id": request_id(),
        }
    )


def usage(uncached: int, output: int, cache_read: int = 0, cache_write: int = 0) -> dict[str, Any]:
    """Anthropic's usage object: ``input_tokens`` excludes the cached and cache-write tokens."""
    return {
        "input_tokens": uncached,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": cache_write,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": output,
        "service_tier": "standard",
    }


@dataclass
class Reply:
    model: str
    text_pieces: list[str]
    stop_reason: str
    usage: dict[str, Any]
    thinking: str = ""
    # {"name", "input"}, or a list of them (parallel tool use); each gets a ``toolu_`` id.
    tool_use: dict[str, Any] | list[dict[str, Any]] | None = None
    stop_sequence: str | None = None
    ident: str = field(default_factory=lambda: f"msg_{secrets.token_urlsafe(18)}")
    signature: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    tool_ids: list[str] = field(default_factory=list)

    def tool_uses(self) -> list[dict[str, Any]]:
        """The tool_use blocks, with ids that stay the same between calls."""
        uses = self.tool_use if isinstance(self.tool_use, list) else [self.tool_use]
        uses = [u for u in uses if u]
        while len(self.tool_ids) < len(uses):
            self.tool_ids.append(f"toolu_{secrets.token_urlsafe(18)}")
        return [
            {
                "type": "tool_use",
                "id": ident,
                "name": use["name"],
                "input": use.get("input") or {},
            }
            for ident, use in zip(self.tool_ids, uses, strict=False)
        ]

    def blocks(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if self.thinking:
            blocks.append(
                {"type": "thinking", "thinking": self.thinking, "signature": self.signature}
            )
        if self.text_pieces:
            blocks.append({"type": "text", "text": "".join(self.text_pieces)})
        return blocks + self.tool_uses()


def message(reply: Reply) -> bytes:
    return orjson.dumps(
        {
            "id": reply.ident,
            "type": "message",
            "role": "assistant",
            "model": reply.model,
            "content": reply.blocks(),
            "stop_reason": reply.stop_reason,
            "stop_sequence": reply.stop_sequence,
            "usage": reply.usage,
        }
    )


def frame(event: str, data: dict[str, Any]) -> bytes:
    return (
        b"event: " + event.encode() + b"\ndata: " + orjson.dumps({"type": event, **data}) + b"\n\n"
    )


def message_start(reply: Reply) -> bytes:
    start_usage = {**reply.usage, "output_tokens": 1}
    return frame(
        "message_start",
        {
            "message": {
                "id": reply.ident,
                "type": "message",
                "role": "assistant",
                "model": reply.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            }
        },
    )


def _block(index: int, start: dict[str, Any], deltas: list[dict[str, Any]]) -> list[bytes]:
    frames = [frame("content_block_start", {"index": index, "content_block": start})]
    if index == 0:
        frames.append(frame("ping", {}))
    frames += [frame("content_block_delta", {"index": index, "delta": d}) for d in deltas]
    frames.append(frame("content_block_stop", {"index": index}))
    return frames


def stream_frames(reply: Reply) -> list[bytes]:
    """``message_start``, one block after another (thinking, text, tool use), then
    ``message_delta`` with the stop reason and the cumulative usage, then ``message_stop``."""
    frames = [message_start(reply)]
    index = 0
    if reply.thinking:
        words = reply.thinking.split(" ")
        deltas = [
            {"type": "thinking_delta", "thinking": w if i == 0 else " " + w}
            for i, w in enumerate(words)
        ]
        deltas.append({"type": "signature_delta", "signature": reply.signature})
        frames += _block(index, {"type": "thinking", "thinking": ""}, deltas)
        index += 1
    if reply.text_pieces:
        deltas = [{"type": "text_delta", "text": piece} for piece in reply.text_pieces]
        frames += _block(index, {"type": "text", "text": ""}, deltas)
        index += 1
    for use in reply.tool_uses():
        arguments = orjson.dumps(use["input"]).decode()
        half = len(arguments) // 2
        deltas = [
            {"type": "input_json_delta", "partial_json": part}
            for part in (arguments[:half], arguments[half:])
        ]
        frames += _block(index, {**use, "input": {}}, deltas)
        index += 1
    end_usage = {
        k: v for k, v in reply.usage.items() if k not in ("cache_creation", "service_tier")
    }
    frames.append(
        frame(
            "message_delta",
            {
                "delta": {"stop_reason": reply.stop_reason, "stop_sequence": reply.stop_sequence},
                "usage": end_usage,
            },
        )
    )
    frames.append(frame("message_stop", {}))
    return frames


def error_frame(status: int, kind: str = "", message: str = "") -> bytes:
    """An ``error`` event inside a stream (e.g. ``overloaded_error``)."""
    default_kind, default_message = ERRORS.get(status, ("api_error", "Error."))
    return frame(
        "error", {"error": {"type": kind or default_kind, "message": message or default_message}}
    )
