"""OpenAI's Responses API wire format (``POST /v1/responses``): the request JSON from the
router's surface-neutral values, and the response object / semantic SSE events back into typed
events. No I/O here (see ``openai_responses``).

Tollgate keeps conversations itself (its own ``previous_response_id``), so every upstream call
is stateless: ``store: false``, the whole conversation as ``input`` items, and, when the model
reasons, ``include: ["reasoning.encrypted_content"]``. A reasoning item comes back to the client
as a :class:`ReasoningDelta` signature ``<item id>:<encrypted_content>`` (format
``openai-responses-v1``) and goes up again as that same reasoning item in a later turn.
"""

from __future__ import annotations

from typing import Any

from tollgate_router.domain import (
    ContentPart,
    FilePart,
    FunctionTool,
    GenerationParams,
    ImagePart,
    Message,
    ReasoningDetail,
    TextPart,
)
from tollgate_router.events import (
    FinishReason,
    ProviderEvent,
    ReasoningDelta,
    ResponseStart,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from tollgate_router.providers.base import ProviderError, UpstreamCall
from tollgate_router.providers.directory import OPENAI_RESPONSES
from tollgate_router.providers.openai_wire import error_from_body, reasoning_effort
from tollgate_router.providers.output_limits import cap_output
from tollgate_router.providers.provider_options import merge
from tollgate_router.providers.sse import SseEvent
from tollgate_router.providers.wire import SHAPE_ERRORS, as_text, load_object, malformed

REASONING_FORMAT = "openai-responses-v1"
# Chat parameters the Responses API does not take: a 400 here, before anything is sent.
_UNSUPPORTED = ("frequency_penalty", "presence_penalty", "seed")
# OpenAI refuses a smaller ``max_output_tokens``; a smaller limit (a credential check's 1, a
# client's) is raised to it.
MIN_OUTPUT_TOKENS = 16

# -- request ----------------------------------------------------------------------------------


def _text(content: str | tuple[ContentPart, ...] | None) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return "".join(p.text for p in content if isinstance(p, TextPart))


def _part(part: ContentPart) -> dict[str, Any]:
    match part:
        case TextPart(text=text):
            return {"type": "input_text", "text": text}
        case ImagePart(url=url, detail=detail):
            return {"type": "input_image", "image_url": url, "detail": detail or "auto"}
        case FilePart(data=data, media_type=media_type, filename=filename):
            if not data.startswith("data:"):
                data = f"data:{media_type or 'application/octet-stream'};base64,{data}"
            if media_type.startswith("image/"):
                return {"type": "input_image", "image_url": data, "detail": "auto"}
            return {"type": "input_file", "file_data": data, "filename": filename or "file"}


def _content(content: str | tuple[ContentPart, ...] | None) -> str | list[dict[str, Any]]:
    if content is None or isinstance(content, str):
        return content or ""
    return [_part(p) for p in content]


def _reasoning_item(detail: ReasoningDetail) -> dict[str, Any] | None:
    """A reasoning item this API made, back as it came; another provider's reasoning is not
    sent (no provider can read another's)."""
    if detail.format != REASONING_FORMAT or ":" not in detail.signature:
        return None
    item_id, encrypted = detail.signature.split(":", 1)
    summary = [{"type": "summary_text", "text": detail.text}] if detail.text else []
    return {"type": "reasoning", "id": item_id, "summary": summary, "encrypted_content": encrypted}


def _items(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        output = message.content
        return [
            {
                "type": "function_call_output",
                "call_id": message.tool_call_id,
                "output": output if isinstance(output, str) else _content(output) or "",
            }
        ]
    if message.role != "assistant":
        return [{"type": "message", "role": message.role, "content": _content(message.content)}]
    items = [i for d in message.reasoning_details if (i := _reasoning_item(d)) is not None]
    if text := _text(message.content):
        items.append({"type": "message", "role": "assistant", "content": text})
    items.extend(
        {"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.arguments}
        for c in message.tool_calls
    )
    return items


def _tool(tool: FunctionTool) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "function", "name": tool.name}
    if tool.description:
        out["description"] = tool.description
    out["parameters"] = tool.parameters if tool.parameters is not None else {"type": "object"}
    if tool.strict is not None:
        out["strict"] = tool.strict
    return out


def _tool_fields(params: GenerationParams) -> dict[str, Any]:
    options = params.tools
    if not options.tools:
        return {}
    fields: dict[str, Any] = {"tools": [_tool(t) for t in options.tools]}
    if (choice := options.choice) is not None:
        fields["tool_choice"] = (
            {"type": "function", "name": choice.function} if choice.function else choice.mode
        )
    if options.parallel is not None:
        fields["parallel_tool_calls"] = options.parallel
    return fields


def _text_format(params: GenerationParams) -> dict[str, Any] | None:
    fmt = params.response_format
    if fmt is None:
        return None
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    out: dict[str, Any] = {"type": "json_schema", "name": fmt.name or "response"}
    if fmt.description:
        out["description"] = fmt.description
    out["schema"] = fmt.schema if fmt.schema is not None else {"type": "object"}
    if fmt.strict is not None:
        out["strict"] = fmt.strict
    return out


def request_body(call: UpstreamCall) -> dict[str, Any]:
    """The upstream JSON; a 400 :class:`ProviderError` for a parameter this API has not."""
    params = call.params
    for name in _UNSUPPORTED:
        if getattr(params, name) is not None:
            raise ProviderError(
                400,
                f"`{name}` is not supported by this model",
                type="invalid_request_error",
                param=name,
            )
    if params.stop:
        raise ProviderError(
            400,
            "`stop` is not supported by this model",
            type="invalid_request_error",
            param="stop",
        )
    body: dict[str, Any] = {
        "model": call.provider_model_id,
        "input": [item for m in call.messages for item in _items(m)],
        "stream": call.stream,
        "store": False,  # Tollgate keeps the conversation; OpenAI keeps nothing
    }
    for name in ("temperature", "top_p"):
        if (value := getattr(params, name)) is not None:
            body[name] = value
    if (limit := params.max_completion_tokens or params.max_tokens) is not None:
        body["max_output_tokens"] = limit
    if params.user:
        body["safety_identifier"] = params.user
    body.update(_tool_fields(params))
    if (fmt := _text_format(params)) is not None:
        body["text"] = {"format": fmt}
    if effort := reasoning_effort(params):
        body["reasoning"] = {"effort": effort}
        if effort != "none" and not (params.reasoning and params.reasoning.exclude):
            body["reasoning"]["summary"] = "auto"
            body["include"] = ["reasoning.encrypted_content"]
    merge(body, call.provider_options, OPENAI_RESPONSES)  # providerOptions.openai
    cap_output(body, OPENAI_RESPONSES, params.output_cap, call.max_output_tokens)
    limit = body.get("max_output_tokens")
    if isinstance(limit, int) and limit < MIN_OUTPUT_TOKENS:
        body["max_output_tokens"] = MIN_OUTPUT_TOKENS
    return body


# -- responses --------------------------------------------------------------------------------


def parse_usage(raw: dict[str, Any]) -> UsageReport:
    inputs = int(raw.get("input_tokens") or 0)
    outputs = int(raw.get("output_tokens") or 0)
    return UsageReport(
        prompt_tokens=inputs,
        completion_tokens=outputs,
        total_tokens=int(raw.get("total_tokens") or inputs + outputs),
        cached_tokens=int((raw.get("input_tokens_details") or {}).get("cached_tokens") or 0),
        reasoning_tokens=int((raw.get("output_tokens_details") or {}).get("reasoning_tokens") or 0),
    )


def _start(response: dict[str, Any]) -> ResponseStart:
    return ResponseStart(
        response_id=as_text(response.get("id")),
        model=as_text(response.get("model")),
        created=int(response.get("created_at") or 0),
        system_fingerprint="",
    )


def _finish(response: dict[str, Any], called: bool) -> FinishReason:
    if response.get("status") == "incomplete":
        reason = as_text((response.get("incomplete_details") or {}).get("reason"))
        return FinishReason("content_filter" if reason == "content_filter" else "length")
    return FinishReason("tool_calls" if called else "stop")


def _failure(response: dict[str, Any]) -> ProviderError:
    error = response.get("error") or {}
    return error_from_body(0, {"error": {"type": "api_error", **error}}, "the response failed")


def _reasoning_done(item: dict[str, Any]) -> list[ProviderEvent]:
    encrypted = as_text(item.get("encrypted_content"))
    if not encrypted:
        return []
    signature = f"{as_text(item.get('id'))}:{encrypted}"
    return [ReasoningDelta(signature=signature, format=REASONING_FORMAT)]


def _message_text(item: dict[str, Any]) -> str:
    return "".join(
        as_text(part.get("text") if part.get("type") == "output_text" else part.get("refusal"))
        for part in item.get("content") or ()
    )


def parse_response(raw: bytes) -> list[ProviderEvent]:
    """A whole ``response`` object as the same events a stream would give."""
    body = load_object(raw)
    if body.get("status") == "failed" or body.get("error"):
        raise _failure(body)
    try:
        return _response_events(body)
    except SHAPE_ERRORS as exc:
        raise malformed(exc) from exc


def _response_events(body: dict[str, Any]) -> list[ProviderEvent]:
    events: list[ProviderEvent] = [_start(body)]
    calls = 0
    for item in body.get("output") or ():
        match item.get("type"):
            case "reasoning":
                summary = "\n\n".join(as_text(p.get("text")) for p in item.get("summary") or ())
                if summary:
                    events.append(ReasoningDelta(summary, format=REASONING_FORMAT))
                events.extend(_reasoning_done(item))
            case "message":
                if text := _message_text(item):
                    events.append(TextDelta(text))
            case "function_call":
                events.append(
                    ToolCallDelta(
                        calls,
                        as_text(item.get("call_id")),
                        as_text(item.get("name")),
                        as_text(item.get("arguments")),
                    )
                )
                calls += 1
    events.append(_finish(body, calls > 0))
    if usage := body.get("usage"):
        events.append(parse_usage(usage))
    return events


class EventParser:
    """The semantic SSE events of one streamed response into events."""

    def __init__(self) -> None:
        self.started = False
        self.finished = False
        self.done = False
        self._calls: dict[int, int] = {}  # output_index → index among the function calls

    def feed(self, sse: SseEvent) -> list[ProviderEvent]:
        event = load_object(sse.data)
        try:
            return self._events(event)
        except SHAPE_ERRORS as exc:
            raise malformed(exc) from exc

    def _events(self, event: dict[str, Any]) -> list[ProviderEvent]:
        kind = as_text(event.get("type"))
        events: list[ProviderEvent] = []
        response = event.get("response") or {}
        if not self.started and kind in ("response.created", "response.in_progress"):
            self.started = True
            return [_start(response)]
        match kind:
            case "response.output_text.delta" | "response.refusal.delta":
                events.append(TextDelta(as_text(event.get("delta"))))
            case "response.reasoning_summary_text.delta":
                events.append(ReasoningDelta(as_text(event.get("delta")), format=REASONING_FORMAT))
            case "response.reasoning_summary_part.added" if event.get("summary_index"):
                events.append(ReasoningDelta("\n\n", format=REASONING_FORMAT))
            case "response.output_item.added":
                item = event.get("item") or {}
                if item.get("type") == "function_call":
                    index = self._calls[int(event["output_index"])] = len(self._calls)
                    events.append(
                        ToolCallDelta(
                            index,
                            as_text(item.get("call_id")),
                            as_text(item.get("name")),
                            as_text(item.get("arguments")),
                        )
                    )
            case "response.function_call_arguments.delta":
                index = self._calls[int(event["output_index"])]
                events.append(ToolCallDelta(index, arguments=as_text(event.get("delta"))))
            case "response.output_item.done":
                item = event.get("item") or {}
                if item.get("type") == "reasoning":
                    events.extend(_reasoning_done(item))
            case "response.completed" | "response.incomplete":
                self.finished = self.done = True
                events.append(_finish(response, bool(self._calls)))
                if usage := response.get("usage"):
                    events.append(parse_usage(usage))
            case "response.failed":
                self.done = True
                raise _failure(response)
            case "error":
                self.done = True
                error = {k: event.get(k) for k in ("message", "code", "param")}
                raise error_from_body(0, {"error": {**error, "type": "api_error"}})
        return [e for e in events if not isinstance(e, TextDelta | ReasoningDelta) or _has(e)]


def _has(event: TextDelta | ReasoningDelta) -> bool:
    return bool(event.text) or (isinstance(event, ReasoningDelta) and bool(event.signature))
