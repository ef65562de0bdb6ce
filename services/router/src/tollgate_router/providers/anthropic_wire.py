"""The Anthropic Messages wire format: the request JSON from OpenAI-style typed messages, and
``message`` JSON / SSE events / error bodies back into typed events. No I/O (see ``anthropic``).

Translation (as Anthropic's Messages API documents it):

* system and developer messages → the top-level ``system`` text blocks, in order;
* consecutive messages of one role merge into one turn (the API wants user / assistant turns);
* images: a data URI → a ``base64`` source, an http(s) URL → a ``url`` source; PDF files →
  ``document`` blocks, plain-text files → ``text`` document sources, image files → images;
* assistant ``tool_calls`` → ``tool_use`` blocks; ``tool`` messages → ``tool_result`` blocks of
  a user turn;
* ``max_tokens`` is required: the request's own limit, else the model's max output from the
  catalog, else :data:`DEFAULT_MAX_TOKENS`; ``stop`` → ``stop_sequences``; ``user`` →
  ``metadata.user_id``; ``seed`` and the penalties have no Anthropic equivalent and are dropped.

Usage: Anthropic's ``input_tokens`` leaves out cached input, so the prompt is
``input + cache_read + cache_creation`` (OpenAI semantics); cache reads are ``cached_tokens``
and cache writes ``cache_write_tokens``. Thinking is part of ``output_tokens`` (Anthropic does
not count it separately, so ``reasoning_tokens`` stays 0).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from tollgate_router.domain import FilePart, ImagePart, Message, TextPart
from tollgate_router.events import (
    FinishReason,
    ProviderEvent,
    ReasoningDelta,
    ResponseStart,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from tollgate_router.providers.anthropic_options import option_fields
from tollgate_router.providers.base import (
    ProviderError,
    UpstreamCall,
)
from tollgate_router.providers.content import (
    SYSTEM_ROLES,
    arguments_object,
    file_payload,
    invalid,
    split_data_uri,
    system_text,
)
from tollgate_router.providers.directory import ANTHROPIC_MESSAGES
from tollgate_router.providers.output_limits import cap_output
from tollgate_router.providers.provider_options import merge
from tollgate_router.providers.sse import SseEvent
from tollgate_router.providers.wire import (
    SHAPE_ERRORS,
    as_text,
    envelope_type,
    fallback_message,
    json_or_none,
    load_object,
    malformed,
)

ANTHROPIC_VERSION = "2023-06-01"
# When neither the request nor the catalog gives a limit: the smallest max output of any current
# Claude model (Claude 3 Haiku's), so the request is valid everywhere.
DEFAULT_MAX_TOKENS = 4096
# Client headers the Anthropic API understands (model variants, betas).
PASSED_HEADERS = ("anthropic-beta",)

_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# ``reasoning_details[].format`` of this provider's reasoning.
REASONING_FORMAT = "anthropic-claude-v1"

# -- request ----------------------------------------------------------------------------------

Block = dict[str, Any]


def _image(url: str) -> Block:
    split = split_data_uri(url)
    if split is not None:
        media_type, data = split
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise invalid("an image must be an http(s) URL or a base64 data URI")


def _file(part: FilePart) -> Block:
    media_type, data = file_payload(part)
    if media_type.startswith("image/"):
        return _image(f"data:{media_type};base64,{data}")
    if media_type == "application/pdf":
        block: Block = {
            "type": "document",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    elif media_type == "text/plain":
        try:
            decoded = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise invalid("a text/plain file must be base64-encoded UTF-8") from exc
        block = {
            "type": "document",
            "source": {"type": "text", "media_type": media_type, "data": decoded},
        }
    else:
        raise invalid(f"Anthropic models do not accept {media_type or 'untyped'} files")
    if part.filename:
        block["title"] = part.filename
    return block


def _blocks(content: str | tuple[TextPart | ImagePart | FilePart, ...] | None) -> list[Block]:
    """Content blocks of a message; empty text is left out (the API rejects empty blocks)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[Block] = []
    for part in content:
        match part:
            case TextPart(text=text):
                if text:
                    blocks.append({"type": "text", "text": text})
            case ImagePart(url=url):
                blocks.append(_image(url))
            case FilePart():
                blocks.append(_file(part))
    return blocks


def _turn(message: Message) -> tuple[str, list[Block]]:
    if message.role == "tool":
        content = message.content
        result: Block = {"type": "tool_result", "tool_use_id": message.tool_call_id}
        if isinstance(content, str):
            result["content"] = content
        else:
            result["content"] = _blocks(content)
        return "user", [result]
    if message.role == "assistant":
        blocks = _thinking_blocks(message) + _blocks(message.content)
        blocks += [
            {
                "type": "tool_use",
                "id": call.id,
                "name": call.name,
                "input": arguments_object(call.arguments, call.name),
            }
            for call in message.tool_calls
        ]
        return "assistant", blocks
    return "user", _blocks(message.content)


def _thinking_blocks(message: Message) -> list[Block]:
    """Claude's own signed thinking from an earlier answer, sent back first in its turn (as
    tool use with thinking requires); other providers' reasoning and unsigned text stay out."""
    blocks: list[Block] = []
    for detail in message.reasoning_details:
        if detail.format != REASONING_FORMAT:
            continue
        if detail.type == "reasoning.encrypted" and detail.data:
            blocks.append({"type": "redacted_thinking", "data": detail.data})
        elif detail.type == "reasoning.text" and detail.signature:
            blocks.append(
                {"type": "thinking", "thinking": detail.text, "signature": detail.signature}
            )
    return blocks


def _turns(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role in SYSTEM_ROLES:
            continue
        role, blocks = _turn(message)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def max_tokens(call: UpstreamCall) -> int:
    params = call.params
    for limit in (params.max_completion_tokens, params.max_tokens):
        if limit is not None:
            return limit
    return call.max_output_tokens or DEFAULT_MAX_TOKENS


def request_body(call: UpstreamCall) -> dict[str, Any]:
    """The upstream JSON (raises a 400 :class:`ProviderError` for what Anthropic cannot take)."""
    params = call.params
    options = option_fields(params, max_tokens(call), call.max_output_tokens)
    hint = options.pop("hint", "")
    body: dict[str, Any] = {
        "model": call.provider_model_id,
        "max_tokens": options.pop("max_tokens"),
        "messages": _turns(call.messages),
    }
    system = system_text(call.messages) + ([hint] if hint else [])
    if system:
        body["system"] = [{"type": "text", "text": text} for text in system]
    if call.stream:
        body["stream"] = True
    body.update(options)
    if "thinking" not in body:  # extended thinking takes neither
        if params.temperature is not None:
            body["temperature"] = params.temperature
        if params.top_p is not None:
            body["top_p"] = params.top_p
    if params.stop:
        body["stop_sequences"] = list(params.stop)
    if params.user:
        body["metadata"] = {"user_id": params.user}
    merge(body, call.provider_options, ANTHROPIC_MESSAGES)  # providerOptions.<provider>
    cap_output(
        body, ANTHROPIC_MESSAGES, call.params.output_cap, call.max_output_tokens
    )  # what was held
    return body


def request_headers(call: UpstreamCall) -> dict[str, str]:
    headers = {
        "x-api-key": call.api_key,
        "anthropic-version": ANTHROPIC_VERSION,
        "content-type": "application/json",
        "accept": "text/event-stream" if call.stream else "application/json",
    }
    for name in PASSED_HEADERS:
        if value := call.provider_headers.get(name):
            headers[name] = value
    return headers


# -- responses --------------------------------------------------------------------------------


def error_from_body(status: int, body: Any, fallback: str = "") -> ProviderError:
    """``{"type": "error", "error": {"type", "message"}}``: Anthropic's type becomes ``code``.
    ``status`` is 0 for an ``error`` event inside a stream (no HTTP status of its own)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        kind, message = as_text(error.get("type")), as_text(error.get("message"))
    else:
        kind, message = "", as_text(error) or fallback
    return ProviderError(
        status,
        message or f"provider answered HTTP {status}",
        type=envelope_type(status),
        code=kind,
    )


def error_from_response(status: int, raw: bytes) -> ProviderError:
    return error_from_body(status, json_or_none(raw), fallback_message(raw))


def usage_report(counts: dict[str, Any]) -> UsageReport:
    """Anthropic usage in OpenAI semantics (the prompt includes cache reads and writes)."""
    uncached = int(counts.get("input_tokens") or 0)
    read = int(counts.get("cache_read_input_tokens") or 0)
    written = int(counts.get("cache_creation_input_tokens") or 0)
    output = int(counts.get("output_tokens") or 0)
    prompt = uncached + read + written
    return UsageReport(
        prompt_tokens=prompt,
        completion_tokens=output,
        total_tokens=prompt + output,
        cached_tokens=read,
        cache_write_tokens=written,
    )


def finish_reason(stop_reason: Any) -> str:
    return _FINISH_REASONS.get(as_text(stop_reason), "stop")


def _finish(stop_reason: Any, tool_calls: int, answered: bool) -> str:
    """A stop for tool use that only gave the structured answer is a plain stop."""
    reason = finish_reason(stop_reason)
    return "stop" if reason == "tool_calls" and answered and not tool_calls else reason


def _start(message: dict[str, Any]) -> ResponseStart:
    return ResponseStart(
        response_id=as_text(message.get("id")),
        model=as_text(message.get("model")),
        created=0,  # Anthropic does not say
        system_fingerprint="",
    )


def _load(raw: bytes) -> dict[str, Any]:
    body = load_object(raw)
    if body.get("type") == "error":
        raise error_from_body(0, body)
    return body


def parse_message(raw: bytes, answer_tool: str = "") -> list[ProviderEvent]:
    """A ``message`` JSON body as the same events a stream would give; a call of
    ``answer_tool`` (a structured answer, see ``anthropic_options``) becomes the text."""
    body = _load(raw)
    try:
        return _message_events(body, answer_tool)
    except SHAPE_ERRORS as exc:
        raise malformed(exc) from exc


def _message_events(body: dict[str, Any], answer_tool: str) -> list[ProviderEvent]:
    events: list[ProviderEvent] = [_start(body)]
    tools = 0
    for block in body.get("content") or ():
        match block.get("type"):
            case "text":
                if text := block.get("text"):
                    events.append(TextDelta(str(text)))
            case "thinking":
                if thinking := block.get("thinking"):
                    events.append(ReasoningDelta(str(thinking), format=REASONING_FORMAT))
                if signature := block.get("signature"):
                    events.append(ReasoningDelta(signature=str(signature), format=REASONING_FORMAT))
            case "redacted_thinking":
                events.append(
                    ReasoningDelta(data=as_text(block.get("data")), format=REASONING_FORMAT)
                )
            case "tool_use" if answer_tool and block.get("name") == answer_tool:
                events.append(TextDelta(orjson.dumps(block.get("input") or {}).decode()))
            case "tool_use":
                arguments = orjson.dumps(block.get("input") or {}).decode()
                events.append(
                    ToolCallDelta(
                        tools, as_text(block.get("id")), as_text(block.get("name")), arguments
                    )
                )
                tools += 1
    answered = any(isinstance(e, TextDelta) for e in events) and bool(answer_tool)
    events.append(FinishReason(_finish(body.get("stop_reason"), tools, answered)))
    if isinstance(usage := body.get("usage"), dict):
        events.append(usage_report(usage))
    return events


_USAGE_KEYS = (
    "input_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "output_tokens",
)


class MessageStreamParser:
    """The SSE events of one streamed message into typed events.

    ``message_start`` is held back until the first event with something in it (a block, a stop
    reason), so a stream that fails right away (an ``error`` event such as ``overloaded_error``
    after ``message_start``) fails before the router commits to this provider and can still
    fall over to the next one.
    """

    def __init__(self, answer_tool: str = "") -> None:
        self.done = False  # message_stop seen
        self.finished = False  # a stop reason seen
        self._held: list[ProviderEvent] = []
        self._usage: dict[str, int] = {}
        self._tools: dict[int, int] = {}  # content block index → tool call index
        self._answer_tool = answer_tool
        self._answer_block = -1  # the block of the structured answer's tool call

    def feed(self, sse: SseEvent) -> list[ProviderEvent]:
        payload = load_object(sse.data)
        try:
            events = self._events(payload.get("type") or sse.event, payload)
        except SHAPE_ERRORS as exc:
            raise malformed(exc) from exc
        if events and self._held:
            events = self._held + events
            self._held = []
        return events

    def _events(self, kind: Any, payload: dict[str, Any]) -> list[ProviderEvent]:
        match kind:
            case "message_start":
                message = payload["message"]
                self._held.append(_start(message))
                self._count(message.get("usage"))
                return []
            case "content_block_start":
                return self._block_start(int(payload["index"]), payload["content_block"])
            case "content_block_delta":
                return self._block_delta(int(payload["index"]), payload["delta"])
            case "message_delta":
                events: list[ProviderEvent] = []
                if stop := (payload.get("delta") or {}).get("stop_reason"):
                    self.finished = True
                    events.append(
                        FinishReason(_finish(stop, len(self._tools), self._answer_block >= 0))
                    )
                self._count(payload.get("usage"))
                events.append(usage_report(self._usage))
                return events
            case "message_stop":
                self.done = True
                held, self._held = self._held, []
                return held
            case "error":
                raise error_from_body(0, payload)
            case _:  # ping, content_block_stop, and event types added later
                return []

    def _count(self, usage: Any) -> None:
        """Usage is cumulative: a later non-null value replaces an earlier one."""
        if isinstance(usage, dict):
            for key in _USAGE_KEYS:
                if (value := usage.get(key)) is not None:
                    self._usage[key] = int(value)

    def _block_start(self, index: int, block: dict[str, Any]) -> list[ProviderEvent]:
        match block.get("type"):
            case "text":
                text = as_text(block.get("text"))
                return [TextDelta(text)] if text else []
            case "thinking":
                thinking = as_text(block.get("thinking"))
                return [ReasoningDelta(thinking, format=REASONING_FORMAT)] if thinking else []
            case "redacted_thinking":
                return [ReasoningDelta(data=as_text(block.get("data")), format=REASONING_FORMAT)]
            case "tool_use" if self._answer_tool and block.get("name") == self._answer_tool:
                self._answer_block = index
                return []
            case "tool_use":
                tool = self._tools[index] = len(self._tools)
                partial = block.get("input")
                arguments = orjson.dumps(partial).decode() if partial else ""
                return [
                    ToolCallDelta(
                        tool, as_text(block.get("id")), as_text(block.get("name")), arguments
                    )
                ]
            case _:
                return []

    def _block_delta(self, index: int, delta: dict[str, Any]) -> list[ProviderEvent]:
        match delta.get("type"):
            case "text_delta":
                text = as_text(delta.get("text"))
                return [TextDelta(text)] if text else []
            case "input_json_delta" if index == self._answer_block:
                fragment = as_text(delta.get("partial_json"))
                return [TextDelta(fragment)] if fragment else []
            case "input_json_delta":
                fragment = as_text(delta.get("partial_json"))
                if index not in self._tools or not fragment:
                    return []
                return [ToolCallDelta(self._tools[index], arguments=fragment)]
            case "thinking_delta":
                thinking = as_text(delta.get("thinking"))
                return [ReasoningDelta(thinking, format=REASONING_FORMAT)] if thinking else []
            case "signature_delta":
                return [
                    ReasoningDelta(
                        signature=as_text(delta.get("signature")), format=REASONING_FORMAT
                    )
                ]
            case _:  # citations_delta and later additions
                return []
