"""The router's generation events as LanguageModelV2 stream parts, and a whole answer as the V2
generate result (docs/ai-sdk.md), in the shapes of the protocol generation (``versions``).

Text and reasoning are bracketed by ``*-start`` / ``*-end`` with stable ids (the AI SDK rejects a
delta whose block was never started); a reasoning block ends where its signature arrives, and its
``providerMetadata.gateway`` (``format``, ``signature`` or encrypted ``data``) comes back as the
reasoning part's ``providerOptions`` in the next turn, so the provider that wrote it can check it.
Tool calls stream as ``tool-input-start`` / ``-delta`` and end, complete, as ``tool-call`` with
their arguments as a JSON string. The generation id rides on the first content part and on
``finish``, with the cost and routing of ``providerMetadata.gateway``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tollgate.router.v1 import router_pb2

from tollgate_edge.aisdk.versions import Spec
from tollgate_edge.chat_response import created_seconds, gateway_metadata

Part = dict[str, Any]


@dataclass(slots=True)
class _ToolCall:
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Block:
    kind: str  # "text" | "reasoning"
    id: str
    format: str = ""


class PartEncoder:
    """Turns one generation's events into V2 stream parts, in order."""

    __slots__ = (
        "_block",
        "_calls",
        "_count",
        "_generation_id",
        "_spec",
        "_tagged",
        "finished",
        "usage",
    )

    def __init__(self, generation_id: str, spec: Spec) -> None:
        self._generation_id = generation_id
        self._spec = spec
        self._block: _Block | None = None
        self._calls: dict[int, _ToolCall] = {}
        self._count = 0
        self._tagged = False
        self.usage: router_pb2.Usage | None = None
        self.finished: router_pb2.GenerationFinished | None = None

    def start(
        self, warnings: list[dict[str, Any]], started: router_pb2.GenerationStarted, model: str
    ) -> list[Part]:
        created = datetime.fromtimestamp(created_seconds(started), UTC)
        return [
            {"type": "stream-start", "warnings": warnings},
            {
                "type": "response-metadata",
                "id": self._generation_id,
                "modelId": model,
                "timestamp": created.isoformat().replace("+00:00", "Z"),
            },
        ]

    def _next_id(self, kind: str) -> str:
        self._count += 1
        return f"{kind}-{self._count}"

    def _tag(self, part: Part) -> Part:
        """The first content part carries the generation id (as Vercel's gateway does)."""
        if not self._tagged:
            self._tagged = True
            part["providerMetadata"] = {"gateway": {"generationId": self._generation_id}}
        return part

    def _close(self, metadata: dict[str, Any] | None = None) -> list[Part]:
        block, self._block = self._block, None
        if block is None:
            return []
        end: Part = {"type": f"{block.kind}-end", "id": block.id}
        if block.kind == "reasoning":
            gateway = {"format": block.format, **(metadata or {})}
            end["providerMetadata"] = {"gateway": gateway}
        return [end]

    def _open(self, kind: str, fmt: str = "") -> tuple[list[Part], _Block]:
        block = self._block
        if block is not None and block.kind == kind and block.format == fmt:
            return [], block
        parts = self._close()
        block = self._block = _Block(kind, self._next_id(kind), fmt)
        parts.append(self._tag({"type": f"{kind}-start", "id": block.id}))
        return parts, block

    def event(self, event: router_pb2.StreamGenerateResponse) -> list[Part]:
        """The parts one router event makes (``usage`` and ``finished`` are kept for the end)."""
        kind = event.WhichOneof("event")
        if kind == "text_delta":
            parts, block = self._open("text")
            parts.append({"type": "text-delta", "id": block.id, "delta": event.text_delta.text})
            return parts
        if kind == "reasoning_delta":
            return self._reasoning(event.reasoning_delta)
        if kind == "tool_call_delta":
            return self._tool_call(event.tool_call_delta)
        if kind == "usage":
            self.usage = event.usage
        elif kind == "finished":
            self.finished = event.finished
        return []

    def _reasoning(self, delta: router_pb2.ReasoningDelta) -> list[Part]:
        fmt = delta.format or "unknown"
        if delta.data:  # encrypted / redacted reasoning: a block of its own, without text
            parts = self._close()
            parts.append(self._tag({"type": "reasoning-start", "id": self._next_id("reasoning")}))
            self._block = _Block("reasoning", parts[-1]["id"], fmt)
            return parts + self._close({"data": delta.data})
        parts, block = self._open("reasoning", fmt)
        if delta.text:
            parts.append({"type": "reasoning-delta", "id": block.id, "delta": delta.text})
        if delta.signature:
            parts += self._close({"signature": delta.signature})
        return parts

    def _tool_call(self, delta: router_pb2.ToolCallDelta) -> list[Part]:
        parts = self._close()
        call = self._calls.get(delta.index)
        if call is None:
            call_id = delta.id or f"call_{self._generation_id}_{delta.index}"
            call = self._calls[delta.index] = _ToolCall(call_id, delta.name)
            parts.append(
                self._tag({"type": "tool-input-start", "id": call_id, "toolName": call.name})
            )
        if delta.arguments:
            call.arguments.append(delta.arguments)
            parts.append({"type": "tool-input-delta", "id": call.id, "delta": delta.arguments})
        return parts

    def end(self, complete_calls: bool = True) -> list[Part]:
        """Close what is open and complete every tool call (before ``finish``); after a failure
        the calls stay incomplete (their arguments may be cut)."""
        parts = self._close()
        for index in sorted(self._calls) if complete_calls else ():
            call = self._calls[index]
            parts.append({"type": "tool-input-end", "id": call.id})
            parts.append(
                {
                    "type": "tool-call",
                    "toolCallId": call.id,
                    "toolName": call.name,
                    "input": "".join(call.arguments) or "{}",
                }
            )
        return parts

    def finish(self, failed: bool = False) -> Part:
        finished = self.finished or router_pb2.GenerationFinished()
        return {
            "type": "finish",
            "finishReason": self._spec.finish_reason("error" if failed else finished.finish_reason),
            "usage": self._spec.usage(self.usage),
            "providerMetadata": gateway_metadata(finished, self._generation_id),
        }


def generate_result(
    parts: list[Part], finish: Part, warnings: list[dict[str, Any]]
) -> dict[str, Any]:
    """The V2 generate result (``content`` in order) of a whole answer's stream parts."""
    content: list[dict[str, Any]] = []
    open_blocks: dict[str, dict[str, Any]] = {}
    for part in parts:
        kind = part["type"]
        if kind in ("text-start", "reasoning-start"):
            block = {"type": kind.removesuffix("-start"), "text": ""}
            open_blocks[part["id"]] = block
            content.append(block)
        elif kind in ("text-delta", "reasoning-delta"):
            open_blocks[part["id"]]["text"] += part["delta"]
        elif kind == "reasoning-end":
            open_blocks[part["id"]]["providerMetadata"] = part["providerMetadata"]
        elif kind == "tool-call":
            content.append(dict(part))
    return {
        "content": content,
        "finishReason": finish["finishReason"],
        "usage": finish["usage"],
        "providerMetadata": finish["providerMetadata"],
        "warnings": warnings,
    }
