"""The output items of a response, built from the router's events in the order they came:
reasoning becomes a ``reasoning`` item (its text as the summary, its signature or opaque data as
``encrypted_content``), text a ``message`` item with one ``output_text`` part, each tool call a
``function_call`` item. Every method returns the stream events it makes (opening and closing
items as the kind of content changes), each a ``(type, payload)`` pair that
:class:`~tollgate_edge.openai_responses.events.EventWriter` numbers; the items themselves are
kept for the response object."""

from __future__ import annotations

from typing import Any

from tollgate.router.v1 import router_pb2

from tollgate_edge.messages.reasoning import tagged

Event = tuple[str, dict[str, Any]]


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


class Output:
    __slots__ = ("_base", "_open", "_tool_index", "items")

    def __init__(self, base_id: str) -> None:
        # Item ids derive from the response's, so a replayed answer has the same ones.
        self._base = base_id
        self.items: list[dict[str, Any]] = []
        self._open: str | None = None  # the type of the open item
        self._tool_index = -1  # the router's index of the tool call in the open item

    def _item_id(self, prefix: str) -> str:
        return f"{prefix}_{self._base}{len(self.items):03d}"

    def _where(self) -> dict[str, Any]:
        return {"item_id": self.items[-1]["id"], "output_index": len(self.items) - 1}

    def _start(self, item: dict[str, Any]) -> list[Event]:
        out = self.close()
        self.items.append(item)
        self._open = item["type"]
        added = dict(item)
        if item["type"] == "message":
            added["content"] = []
        elif item["type"] == "reasoning":
            added["summary"] = []
        out.append(
            ("response.output_item.added", {"output_index": len(self.items) - 1, "item": added})
        )
        return out

    def close(self, status: str = "completed") -> list[Event]:
        """Close the open item (``status`` ``incomplete`` when the output was cut short)."""
        if self._open is None:
            return []
        item = self.items[-1]
        where = self._where()
        out: list[Event] = []
        if self._open == "message":
            part = item["content"][0]
            out.append(
                (
                    "response.output_text.done",
                    {**where, "content_index": 0, "text": part["text"], "logprobs": []},
                )
            )
            out.append(("response.content_part.done", {**where, "content_index": 0, "part": part}))
        elif self._open == "function_call":
            out.append(
                (
                    "response.function_call_arguments.done",
                    {**where, "name": item["name"], "arguments": item["arguments"]},
                )
            )
        elif self._open == "reasoning" and item["summary"]:
            text = item["summary"][0]["text"]
            summary = {**where, "summary_index": 0}
            out.append(("response.reasoning_summary_text.done", {**summary, "text": text}))
            out.append(
                (
                    "response.reasoning_summary_part.done",
                    {**summary, "part": {"type": "summary_text", "text": text}},
                )
            )
        item["status"] = status if self._open != "reasoning" else "completed"
        out.append(
            ("response.output_item.done", {"output_index": where["output_index"], "item": item})
        )
        self._open = None
        return out

    def text(self, text: str) -> list[Event]:
        out: list[Event] = []
        if self._open != "message":
            out = self._start(
                {
                    "id": self._item_id("msg"),
                    "type": "message",
                    "status": "in_progress",
                    "role": "assistant",
                    "content": [_text_part("")],
                }
            )
            out.append(
                (
                    "response.content_part.added",
                    {**self._where(), "content_index": 0, "part": _text_part("")},
                )
            )
        self.items[-1]["content"][0]["text"] += text
        out.append(
            (
                "response.output_text.delta",
                {**self._where(), "content_index": 0, "delta": text, "logprobs": []},
            )
        )
        return out

    def reasoning(self, delta: router_pb2.ReasoningDelta) -> list[Event]:
        if delta.data:  # opaque reasoning: an item of its own, with nothing to read
            out = self._start(
                {
                    "id": self._item_id("rs"),
                    "type": "reasoning",
                    "summary": [],
                    "encrypted_content": tagged(delta.format, delta.data),
                }
            )
            return out + self.close()
        out = []
        if self._open != "reasoning":
            out = self._start(
                {
                    "id": self._item_id("rs"),
                    "type": "reasoning",
                    "summary": [],
                    "encrypted_content": None,
                }
            )
        item = self.items[-1]
        if delta.text:
            if not item["summary"]:
                item["summary"].append({"type": "summary_text", "text": ""})
                out.append(
                    (
                        "response.reasoning_summary_part.added",
                        {
                            **self._where(),
                            "summary_index": 0,
                            "part": {"type": "summary_text", "text": ""},
                        },
                    )
                )
            item["summary"][0]["text"] += delta.text
            out.append(
                (
                    "response.reasoning_summary_text.delta",
                    {**self._where(), "summary_index": 0, "delta": delta.text},
                )
            )
        if delta.signature:
            item["encrypted_content"] = tagged(delta.format, delta.signature)
            out += self.close()
        return out

    def tool_call(self, delta: router_pb2.ToolCallDelta) -> list[Event]:
        out: list[Event] = []
        if self._open != "function_call" or delta.index != self._tool_index:
            out = self._start(
                {
                    "id": self._item_id("fc"),
                    "type": "function_call",
                    "status": "in_progress",
                    "call_id": delta.id,
                    "name": delta.name,
                    "arguments": "",
                }
            )
            self._tool_index = delta.index
        if delta.arguments:
            self.items[-1]["arguments"] += delta.arguments
            out.append(
                (
                    "response.function_call_arguments.delta",
                    {**self._where(), "delta": delta.arguments},
                )
            )
        return out
