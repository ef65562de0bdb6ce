"""OpenAI's Responses API (``POST /v1/responses``) as the fake OpenAI speaks it: the request
checks OpenAI makes, the ``response`` object and its semantic SSE events, in the field shapes
and order of the ``openai`` SDK's types (openai/types/responses/).

A reasoning item's ``encrypted_content`` is opaque and issued by the fake; one sent back must be
exactly one it issued for that item id (else 400 ``invalid_encrypted_content``, as OpenAI cannot
decrypt it), and a reasoning item without it is a 404 (OpenAI keeps no items with
``store: false``), so a test sees whether reasoning round-trips unchanged.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

# The request fields OpenAI takes; any other is a 400 "Unknown parameter".
KNOWN_FIELDS = frozenset(
    {
        "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls",
        "reasoning", "text", "max_output_tokens", "temperature", "top_p", "metadata", "store",
        "stream", "stream_options", "previous_response_id", "user", "safety_identifier",
        "truncation", "include", "service_tier", "prompt_cache_key", "background",
        "max_tool_calls", "top_logprobs", "conversation", "prompt",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Problem:
    status: int
    message: str
    param: str | None = None
    code: str | None = None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return ""


def input_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("input")
    if isinstance(raw, str):
        return [{"type": "message", "role": "user", "content": raw}]
    return [i for i in raw or () if isinstance(i, dict)]


def problem_of(body: Any, issued: dict[str, str]) -> Problem | None:
    """What OpenAI would refuse in ``body`` (``issued``: reasoning item id → encrypted content)."""
    if not isinstance(body, dict) or not body.get("model"):
        return Problem(400, "Missing required parameter: 'model'.", "model")
    if unknown := sorted(set(body) - KNOWN_FIELDS):
        return Problem(400, f"Unknown parameter: '{unknown[0]}'.", unknown[0], "unknown_parameter")
    if not isinstance(body.get("input"), str | list):
        return Problem(400, "Missing required parameter: 'input'.", "input")
    limit = body.get("max_output_tokens")
    if isinstance(limit, int) and limit < 16:
        return Problem(
            400,
            "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, "
            f"but got {limit} instead.",
            "max_output_tokens",
            "integer_below_min_value",
        )
    calls: set[str] = set()
    for index, item in enumerate(input_items(body)):
        kind = item.get("type", "message")
        if kind == "function_call":
            calls.add(str(item.get("call_id")))
        elif kind == "function_call_output" and item.get("call_id") not in calls:
            return Problem(
                400,
                f"No tool call found for function call output with call_id {item.get('call_id')}.",
                "input",
            )
        elif kind == "reasoning":
            item_id, encrypted = str(item.get("id")), item.get("encrypted_content")
            if not encrypted and body.get("store") is False:
                return Problem(
                    404,
                    f"Item with id '{item_id}' not found. Items are not persisted when `store` "
                    "is set to false. Try again with `store` set to true, or remove this item "
                    "from your input.",
                    "input",
                )
            if encrypted and issued.get(item_id) != encrypted:
                return Problem(
                    400,
                    f"The encrypted content for item {item_id} could not be verified.",
                    f"input[{index}].encrypted_content",
                    "invalid_encrypted_content",
                )
    return None


def prompt_words(body: dict[str, Any]) -> int:
    """The fake's input token count: words of the instructions and of every input item's text."""
    words = len(str(body.get("instructions") or "").split())
    for item in input_items(body):
        text = _text(item.get("content")) or _text(item.get("output"))
        words += len(text.split())
    return words


def last_user_text(body: dict[str, Any]) -> str:
    return next(
        (
            _text(i.get("content"))
            for i in reversed(input_items(body))
            if i.get("type", "message") == "message" and i.get("role") == "user"
        ),
        "",
    )


@dataclass
class Answer:
    """What the fake answers: its output items (complete) and the response around them."""

    body: dict[str, Any]
    reasoning: dict[str, Any] | None
    pieces: list[str]
    calls: list[dict[str, Any]]
    usage: dict[str, Any]
    incomplete: bool
    ident: str = field(default_factory=lambda: f"resp_{secrets.token_hex(24)}")
    created: int = field(default_factory=lambda: int(time.time()))

    def items(self) -> list[dict[str, Any]]:
        out = [self.reasoning] if self.reasoning is not None else []
        if self.pieces:
            out.append(message_item("".join(self.pieces), "completed"))
        out.extend(self.calls)
        return out

    def response(self, status: str, output: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        body = self.body
        reasoning = body.get("reasoning") or {}
        done = status != "in_progress"
        return {
            "id": self.ident,
            "object": "response",
            "created_at": self.created,
            "status": status,
            "background": False,
            "error": None,
            "incomplete_details": {"reason": "max_output_tokens"}
            if status == "incomplete"
            else None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": None,
            "model": f"{body['model']}-2026-01-01",
            "output": (self.items() if output is None else output) if done else [],
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": None,
            "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
            "service_tier": "default",
            "store": body.get("store", True),
            "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [],
            "top_logprobs": 0,
            "top_p": body.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": self.usage if done else None,
            "user": None,
            "metadata": body.get("metadata") or {},
        }


def message_item(text: str, status: str, ident: str = "") -> dict[str, Any]:
    content = [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}]
    return {
        "id": ident or f"msg_{secrets.token_hex(24)}",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content if status == "completed" else [],
    }


def usage_of(prompt: int, output: int, cached: int, reasoning: int) -> dict[str, Any]:
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": min(cached, prompt)},
        "output_tokens": output + reasoning,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": prompt + output + reasoning,
    }


def frames(answer: Answer) -> list[bytes]:
    """The response's SSE events in OpenAI's order, each ``event:`` + ``data:`` with its
    ``sequence_number``."""
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": answer.response("in_progress")},
        {"type": "response.in_progress", "response": answer.response("in_progress")},
    ]
    for index, item in enumerate(answer.items()):
        events.extend(_item_events(index, item))
    final = "incomplete" if answer.incomplete else "completed"
    events.append({"type": f"response.{final}", "response": answer.response(final)})
    return [
        b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps({**e, "sequence_number": n})
        + b"\n\n"
        for n, e in enumerate(events)
    ]  # fmt: skip


def _item_events(index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    where = {"item_id": item["id"], "output_index": index}
    events: list[dict[str, Any]] = []
    match item["type"]:
        case "reasoning":
            added = {**item, "summary": [], "encrypted_content": None}
            events.append(
                {"type": "response.output_item.added", "output_index": index, "item": added}
            )
            for n, part in enumerate(item["summary"]):
                empty = {"type": "summary_text", "text": ""}
                at = {**where, "summary_index": n}
                events.append(
                    {"type": "response.reasoning_summary_part.added", **at, "part": empty}
                )
                events.append(
                    {"type": "response.reasoning_summary_text.delta", **at, "delta": part["text"]}
                )
                events.append(
                    {"type": "response.reasoning_summary_text.done", **at, "text": part["text"]}
                )
                events.append({"type": "response.reasoning_summary_part.done", **at, "part": part})
        case "message":
            text = item["content"][0]["text"]
            added = message_item("", "in_progress", item["id"])
            events.append(
                {"type": "response.output_item.added", "output_index": index, "item": added}
            )
            at = {**where, "content_index": 0}
            blank: dict[str, Any] = {
                "type": "output_text",
                "annotations": [],
                "logprobs": [],
                "text": "",
            }
            events.append({"type": "response.content_part.added", **at, "part": blank})
            events.extend(
                {"type": "response.output_text.delta", **at, "delta": w, "logprobs": []}
                for w in _words(text)
            )
            events.append({"type": "response.output_text.done", **at, "text": text, "logprobs": []})
            events.append({"type": "response.content_part.done", **at, "part": item["content"][0]})
        case "function_call":
            added = {**item, "status": "in_progress", "arguments": ""}
            events.append(
                {"type": "response.output_item.added", "output_index": index, "item": added}
            )
            arguments = item["arguments"]
            half = len(arguments) // 2
            for piece in (arguments[:half], arguments[half:]):
                events.append(
                    {"type": "response.function_call_arguments.delta", **where, "delta": piece}
                )
            events.append(
                {"type": "response.function_call_arguments.done", **where, "arguments": arguments}
            )
    events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    return events  # fmt: skip


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


def function_call_item(name: str, arguments: Any) -> dict[str, Any]:
    return {
        "id": f"fc_{secrets.token_hex(24)}",
        "type": "function_call",
        "status": "completed",
        "arguments": arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode(),
        "call_id": f"call_{secrets.token_urlsafe(18)}",
        "name": name,
    }
