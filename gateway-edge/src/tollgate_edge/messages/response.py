"""Anthropic's message object and its SSE stream, built from the router's events.

The router's events are surface-neutral deltas; here they become Anthropic's content blocks in
the order they came: reasoning text is a ``thinking`` block its signature closes, encrypted
reasoning a ``redacted_thinking`` block, text a ``text`` block and each tool call a
``tool_use`` block whose JSON arguments stream as ``input_json_delta``. The stream is framed as
Anthropic frames it (``event: <type>`` + ``data: <json>``), from ``message_start`` to
``message_stop``."""

from __future__ import annotations

from typing import Any, Final

import orjson
from tollgate.router.v1 import router_pb2

from tollgate_edge.messages.reasoning import tagged

_STOP_REASONS: Final = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}
PING: Final = b'event: ping\ndata: {"type":"ping"}\n\n'


def stop_reason(finish_reason: str) -> str:
    return _STOP_REASONS.get(finish_reason, "end_turn")


def usage_object(usage: router_pb2.Usage | None) -> dict[str, int]:
    """Anthropic's usage: ``input_tokens`` without the cached tokens read or written, which it
    counts apart (the router's ``input_tokens`` includes them)."""
    if usage is None:
        usage = router_pb2.Usage()
    cached = usage.cached_input_tokens + usage.cache_write_tokens
    return {
        "input_tokens": max(usage.input_tokens - cached, 0),
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cached_input_tokens,
    }


def event(kind: str, payload: dict[str, Any]) -> bytes:
    return (
        b"event: " + kind.encode() + b"\ndata: " + orjson.dumps({"type": kind, **payload}) + b"\n\n"
    )


def _tool_input(arguments: str) -> Any:
    """The parsed tool input; what is not a JSON object stays as the model wrote it."""
    if not arguments.strip():
        return {}
    try:
        return orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {"_raw": arguments}


class Blocks:
    """The content blocks of one answer, fed event by event. :meth:`add` returns the stream
    events the event makes (opening and closing blocks as the kind of content changes); the
    blocks themselves are kept for a non-streaming answer."""

    __slots__ = ("_arguments", "_open", "_tool_index", "blocks")

    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []
        self._open: str | None = None  # the type of the open block
        self._tool_index = -1  # the router's index of the tool call in the open block
        self._arguments: list[str] = []

    def _start(self, block: dict[str, Any]) -> list[bytes]:
        out = self.close()
        self.blocks.append(dict(block))
        self._open = block["type"]
        out.append(
            event("content_block_start", {"index": len(self.blocks) - 1, "content_block": block})
        )
        return out

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return event("content_block_delta", {"index": len(self.blocks) - 1, "delta": delta})

    def close(self) -> list[bytes]:
        if self._open is None:
            return []
        if self._open == "tool_use":
            self.blocks[-1]["input"] = _tool_input("".join(self._arguments))
            self._arguments = []
        self._open = None
        return [event("content_block_stop", {"index": len(self.blocks) - 1})]

    def text(self, text: str) -> list[bytes]:
        out = [] if self._open == "text" else self._start({"type": "text", "text": ""})
        self.blocks[-1]["text"] += text
        out.append(self._delta({"type": "text_delta", "text": text}))
        return out

    def reasoning(self, delta: router_pb2.ReasoningDelta) -> list[bytes]:
        if delta.data:
            data = tagged(delta.format, delta.data)
            out = self._start({"type": "redacted_thinking", "data": data})
            return out + self.close()
        out = (
            []
            if self._open == "thinking"
            else self._start({"type": "thinking", "thinking": "", "signature": ""})
        )
        if delta.text:
            self.blocks[-1]["thinking"] += delta.text
            out.append(self._delta({"type": "thinking_delta", "thinking": delta.text}))
        if delta.signature:
            signature = tagged(delta.format, delta.signature)
            self.blocks[-1]["signature"] = signature
            out.append(self._delta({"type": "signature_delta", "signature": signature}))
            out += self.close()
        return out

    def tool_call(self, delta: router_pb2.ToolCallDelta) -> list[bytes]:
        out: list[bytes] = []
        if self._open != "tool_use" or delta.index != self._tool_index:
            out = self._start({"type": "tool_use", "id": delta.id, "name": delta.name, "input": {}})
            self._tool_index = delta.index
        if delta.arguments:
            self._arguments.append(delta.arguments)
            out.append(self._delta({"type": "input_json_delta", "partial_json": delta.arguments}))
        return out


def message_head(message_id: str, model: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage_object(None),
    }


def message_body(
    message_id: str,
    model: str,
    blocks: Blocks,
    finished: router_pb2.GenerationFinished,
    usage: router_pb2.Usage | None,
) -> bytes:
    """A whole message (a non-streaming answer)."""
    blocks.close()
    body = message_head(message_id, model)
    body["content"] = blocks.blocks
    body["stop_reason"] = stop_reason(finished.finish_reason)
    body["usage"] = usage_object(usage)
    return orjson.dumps(body)


def message_start(message_id: str, model: str) -> bytes:
    return event("message_start", {"message": message_head(message_id, model)})


def message_end(finish_reason: str, usage: router_pb2.Usage | None) -> bytes:
    """``message_delta`` (stop reason and the final usage) and ``message_stop``."""
    delta = {"stop_reason": stop_reason(finish_reason), "stop_sequence": None}
    return event("message_delta", {"delta": delta, "usage": usage_object(usage)}) + event(
        "message_stop", {}
    )
