"""The OpenAI Chat Completions wire format: the request JSON from typed values, and JSON / SSE
responses and error bodies back into typed events. No I/O here (see ``openai_chat``)."""

from __future__ import annotations

from typing import Any

from tollgate_router.domain import (
    FilePart,
    FunctionTool,
    GenerationParams,
    ImagePart,
    Message,
    TextPart,
)
from tollgate_router.events import (
    FinishReason,
    ImageDelta,
    ProviderEvent,
    ReasoningDelta,
    ResponseStart,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from tollgate_router.providers.base import (
    ProviderError,
    UpstreamCall,
)
from tollgate_router.providers.directory import OPENAI_CHAT
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

_PARAMS = (
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "seed",
)

# -- request ----------------------------------------------------------------------------------


def _part(part: TextPart | ImagePart | FilePart) -> dict[str, Any]:
    match part:
        case TextPart(text=text):
            return {"type": "text", "text": text}
        case ImagePart(url=url, detail=detail):
            image = {"url": url, "detail": detail} if detail else {"url": url}
            return {"type": "image_url", "image_url": image}
        case FilePart(data=data, media_type=media_type, filename=filename):
            if media_type.startswith("audio/"):
                audio_format = media_type.split("/", 1)[1].replace("mpeg", "mp3")
                raw = data.split(",", 1)[1] if data.startswith("data:") else data
                return {"type": "input_audio", "input_audio": {"data": raw, "format": audio_format}}
            if not data.startswith("data:"):
                data = f"data:{media_type or 'application/octet-stream'};base64,{data}"
            if media_type.startswith("image/"):  # OpenAI takes images as image_url only
                return {"type": "image_url", "image_url": {"url": data}}
            file = {"file_data": data, "filename": filename} if filename else {"file_data": data}
            return {"type": "file", "file": file}


def _message(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role}
    content = message.content
    out["content"] = (
        content if content is None or isinstance(content, str) else [_part(p) for p in content]
    )
    if message.name:
        out["name"] = message.name
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": call.type or "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    return out


def request_body(call: UpstreamCall) -> dict[str, Any]:
    """The upstream JSON. Streams always ask for usage, so it is never lost."""
    body: dict[str, Any] = {
        "model": call.provider_model_id,
        "messages": [_message(m) for m in call.messages],
        "stream": call.stream,
    }
    if call.stream:
        body["stream_options"] = {"include_usage": True}
    params = call.params
    for name in _PARAMS:
        value = getattr(params, name)
        if value is not None:
            body[name] = value
    if params.stop:
        body["stop"] = list(params.stop)
    if params.user:
        body["user"] = params.user
    body.update(_tool_fields(params))
    if (fmt := _response_format(params)) is not None:
        body["response_format"] = fmt
    if effort := reasoning_effort(params):
        body["reasoning_effort"] = effort
    if params.wants_images:  # OpenRouter's and Vercel's chat image output (`message.images`)
        body["modalities"] = list(params.modalities)
    merge(body, call.provider_options, OPENAI_CHAT)  # providerOptions.<provider>
    cap_output(body, OPENAI_CHAT, call.params.output_cap, call.max_output_tokens)  # what was held
    return body


def _response_format(params: GenerationParams) -> dict[str, Any] | None:
    fmt = params.response_format
    if fmt is None:
        return None
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    schema: dict[str, Any] = {"name": fmt.name or "response"}
    if fmt.description:
        schema["description"] = fmt.description
    if fmt.schema is not None:
        schema["schema"] = fmt.schema
    if fmt.strict is not None:
        schema["strict"] = fmt.strict
    return {"type": "json_schema", "json_schema": schema}


def reasoning_effort(params: GenerationParams) -> str:
    """OpenAI's ``reasoning_effort``: the effort asked for; a token budget is mapped to the
    effort whose typical budget it is closest to (≤ 2048 low, ≤ 16384 medium, else high)."""
    reasoning = params.reasoning
    if reasoning is None:
        return ""
    if reasoning.effort:  # "none" too: OpenAI's own way to turn reasoning off
        return reasoning.effort
    if not reasoning.wanted:
        return ""
    if reasoning.max_tokens:
        if reasoning.max_tokens <= 2048:
            return "low"
        return "medium" if reasoning.max_tokens <= 16384 else "high"
    return "medium"


def _tool(tool: FunctionTool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    if tool.parameters is not None:
        function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _tool_fields(params: GenerationParams) -> dict[str, Any]:
    """``tools``, ``tool_choice`` and ``parallel_tool_calls``: OpenAI's own shapes."""
    options = params.tools
    fields: dict[str, Any] = {}
    if options.tools:
        fields["tools"] = [_tool(t) for t in options.tools]
    # OpenAI rejects a tool_choice without tools; without tools there is nothing to choose.
    if (choice := options.choice) is not None and options.tools:
        fields["tool_choice"] = (
            {"type": "function", "function": {"name": choice.function}}
            if choice.function
            else choice.mode
        )
    if options.parallel is not None and options.tools:
        fields["parallel_tool_calls"] = options.parallel
    return fields


# -- responses --------------------------------------------------------------------------------


def error_from_body(status: int, body: Any, fallback: str = "") -> ProviderError:
    """OpenAI's envelope ``{"error": {message, type, param, code}}`` (or a bare string)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message, kind = as_text(error.get("message")), as_text(error.get("type"))
        code, param = as_text(error.get("code")), as_text(error.get("param"))
    else:
        message, kind, code, param = as_text(error) or fallback, "", "", ""
    if not kind:
        kind = envelope_type(status)
    return ProviderError(
        status, message or f"provider answered HTTP {status}", type=kind, code=code, param=param
    )


def request_headers(api_key: str, stream: bool) -> dict[str, str]:
    """The headers of every OpenAI API request: the bearer key, JSON in, JSON or SSE back."""
    return {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if stream else "application/json",
    }


def error_from_response(status: int, raw: bytes) -> ProviderError:
    return error_from_body(status, json_or_none(raw), fallback_message(raw))


def parse_usage(raw: dict[str, Any]) -> UsageReport:
    prompt_details = raw.get("prompt_tokens_details") or {}
    completion_details = raw.get("completion_tokens_details") or {}
    prompt = int(raw.get("prompt_tokens") or 0)
    completion = int(raw.get("completion_tokens") or 0)
    return UsageReport(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=int(raw.get("total_tokens") or prompt + completion),
        cached_tokens=int(prompt_details.get("cached_tokens") or 0),
        cache_write_tokens=int(prompt_details.get("cache_write_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
    )


def _start(body: dict[str, Any]) -> ResponseStart:
    return ResponseStart(
        response_id=as_text(body.get("id")),
        model=as_text(body.get("model")),
        created=int(body.get("created") or 0),
        system_fingerprint=as_text(body.get("system_fingerprint")),
    )


def _load_object(raw: bytes) -> dict[str, Any]:
    body = load_object(raw)
    if body.get("error"):
        raise error_from_body(0, body)
    return body


def parse_completion(raw: bytes) -> list[ProviderEvent]:
    """A ``chat.completion`` JSON body as the same events a stream would give."""
    body = _load_object(raw)
    try:
        return _completion_events(body)
    except SHAPE_ERRORS as exc:
        raise malformed(exc) from exc


def _completion_events(body: dict[str, Any]) -> list[ProviderEvent]:
    events: list[ProviderEvent] = [_start(body)]
    choice: dict[str, Any] = next(
        (c for c in body.get("choices") or () if c.get("index", 0) == 0), {}
    )
    message = choice.get("message") or {}
    if reasoning := _reasoning_text(message):
        events.append(ReasoningDelta(reasoning))
    if content := message.get("content"):
        events.append(TextDelta(str(content)))
    events.extend(_images(message.get("images")))
    for index, call in enumerate(message.get("tool_calls") or ()):
        function = call.get("function") or {}
        events.append(
            ToolCallDelta(
                index,
                as_text(call.get("id")),
                as_text(function.get("name")),
                as_text(function.get("arguments")),
            )
        )
    events.append(FinishReason(as_text(choice.get("finish_reason")) or "stop"))
    if usage := body.get("usage"):
        events.append(parse_usage(usage))
    return events


def _reasoning_text(message: dict[str, Any]) -> str:
    """The reasoning some OpenAI-compatible APIs send beside the content (``reasoning_content``
    from DeepSeek and vLLM, ``reasoning`` from Groq, OpenRouter and Vercel's gateway)."""
    return as_text(message.get("reasoning_content") or message.get("reasoning"))


def _images(raw: Any) -> list[ProviderEvent]:
    """Generated images as OpenAI-compatible gateways (OpenRouter, Vercel) send them, in
    ``message.images`` / ``delta.images``: ``[{type: image_url, image_url: {url}}]``."""
    return [
        ImageDelta(url)
        for image in raw or ()
        if isinstance(image, dict)
        if (url := as_text((image.get("image_url") or {}).get("url")))
    ]


def _tool_call_deltas(raw: Any) -> list[ProviderEvent]:
    """``delta.tool_calls`` chunks: ``index``, then ``id`` / ``function.name`` on a call's first
    chunk and ``function.arguments`` fragments, as OpenAI streams them."""
    events: list[ProviderEvent] = []
    for position, call in enumerate(raw or ()):
        function = call.get("function") or {}
        events.append(
            ToolCallDelta(
                int(call.get("index", position)),  # some compatible APIs leave it out
                as_text(call.get("id")),
                as_text(function.get("name")),
                as_text(function.get("arguments")),
            )
        )
    return events


class ChunkParser:
    """``chat.completion.chunk`` payloads of one stream into events."""

    def __init__(self) -> None:
        self.started = False
        self.finished = False  # a finish_reason was seen
        self.done = False  # [DONE] was seen

    def feed(self, sse: SseEvent) -> list[ProviderEvent]:
        if sse.data.startswith(b"[DONE]"):
            self.done = True
            return []
        chunk = _load_object(sse.data)
        try:
            return self._events(chunk)
        except SHAPE_ERRORS as exc:
            raise malformed(exc) from exc

    def _events(self, chunk: dict[str, Any]) -> list[ProviderEvent]:
        events: list[ProviderEvent] = []
        if not self.started:
            self.started = True
            events.append(_start(chunk))
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if reasoning := _reasoning_text(delta):
                events.append(ReasoningDelta(reasoning))
            if text := delta.get("content"):
                events.append(TextDelta(text))
            events.extend(_images(delta.get("images")))
            events.extend(_tool_call_deltas(delta.get("tool_calls")))
            if reason := choice.get("finish_reason"):
                self.finished = True
                events.append(FinishReason(str(reason)))
        if usage := chunk.get("usage"):
            events.append(parse_usage(usage))
        return events
