"""The Google Gemini ``generateContent`` wire format: the request JSON from OpenAI-style typed
messages, ``GenerateContentResponse`` JSON (whole, or one per SSE event) and error bodies back
into typed events. No I/O (see ``gemini``).

Translation (as the Gemini API reference documents it):

* system and developer messages → ``systemInstruction``; user → role ``user``, assistant → role
  ``model``; consecutive turns of one role merge;
* data-URI images and files → ``inlineData``; http(s) image URLs → ``fileData``;
* assistant ``tool_calls`` → ``functionCall`` parts; ``tool`` messages → ``functionResponse``
  parts (named after the call they answer) in a user turn; a Gemini thought signature in the
  assistant message's ``reasoning_details`` goes back on its first ``functionCall`` part;
* ``generationConfig``: temperature, topP, maxOutputTokens, stopSequences, seed,
  presencePenalty, frequencyPenalty; ``modalities`` with ``image`` → ``responseModalities``
  (``TEXT``, ``IMAGE``).

Generated images come back as ``inlineData`` parts (whole, also in a stream): each becomes a
data URI. Their tokens are in ``candidatesTokensDetails`` (modality ``IMAGE``).

Usage: ``promptTokenCount`` already includes cached content, so it is the prompt as is;
``cachedContentTokenCount`` → cached; ``thoughtsTokenCount`` → reasoning, and completion tokens are
``candidatesTokenCount + thoughtsTokenCount`` (OpenAI semantics: output includes reasoning).
Every chunk's usage so far becomes a report (the last one counts). A stream has no end
marker: it is complete once a chunk carries a ``finishReason``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import orjson

from tollgate_router.domain import FilePart, ImagePart, Message, TextPart
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
from tollgate_router.providers.content import (
    SYSTEM_ROLES,
    arguments_object,
    file_payload,
    guess_media_type,
    invalid,
    new_call_id,
    split_data_uri,
    system_text,
    text_of,
    tool_names,
)
from tollgate_router.providers.directory import GOOGLE_GEMINI
from tollgate_router.providers.gemini_options import config_fields, tool_fields
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

_CONFIG = (
    ("temperature", "temperature"),
    ("top_p", "topP"),
    ("seed", "seed"),
    ("presence_penalty", "presencePenalty"),
    ("frequency_penalty", "frequencyPenalty"),
)
_FILTERED = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)
# google.rpc status names → HTTP, for error bodies whose ``code`` is missing.
_HTTP_OF_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
# ErrorInfo reasons that mean our key is bad (Google answers them with 400 INVALID_ARGUMENT).
_BAD_KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED"})

# ``reasoning_details[].format`` of this provider's reasoning.
REASONING_FORMAT = "google-gemini-v1"

# -- request ----------------------------------------------------------------------------------

Part = dict[str, Any]


def _image(url: str) -> Part:
    split = split_data_uri(url)
    if split is not None:
        media_type, data = split
        return {"inlineData": {"mimeType": media_type, "data": data}}
    if url.startswith(("https://", "http://")):
        return {"fileData": {"mimeType": guess_media_type(url, "image/jpeg"), "fileUri": url}}
    raise invalid("an image must be an http(s) URL or a base64 data URI")


def _file(part: FilePart) -> Part:
    media_type, data = file_payload(part)
    if not media_type:
        raise invalid("a file needs a media type for Gemini models")
    return {"inlineData": {"mimeType": media_type, "data": data}}


def _parts(content: str | tuple[TextPart | ImagePart | FilePart, ...] | None) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[Part] = []
    for part in content:
        match part:
            case TextPart(text=text):
                if text:
                    parts.append({"text": text})
            case ImagePart(url=url):
                parts.append(_image(url))
            case FilePart():
                parts.append(_file(part))
    return parts


def _turn(message: Message, names: dict[str, str]) -> tuple[str, list[Part]]:
    if message.role == "tool":
        name = names.get(message.tool_call_id)
        if name is None:
            raise invalid(f"tool message answers unknown tool call {message.tool_call_id!r}")
        response = {"name": name, "content": text_of(message.content)}
        return "user", [{"functionResponse": {"name": name, "response": response}}]
    if message.role == "assistant":
        parts = _parts(message.content)
        parts += [
            {"functionCall": {"name": c.name, "args": arguments_object(c.arguments, c.name)}}
            for c in message.tool_calls
        ]
        _sign(parts, message)
        return "model", parts
    return "user", _parts(message.content)


def _sign(parts: list[Part], message: Message) -> None:
    """Gemini's thought signature from an earlier answer, back where Gemini put it: on the
    first ``functionCall`` part (the only one signed among parallel calls), else on the last
    part. Other providers' reasoning stays out."""
    signature = next(
        (
            d.signature
            for d in message.reasoning_details
            if d.format == REASONING_FORMAT and d.signature
        ),
        "",
    )
    if not signature or not parts:
        return
    target = next((p for p in parts if "functionCall" in p), parts[-1])
    target["thoughtSignature"] = signature


def _contents(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    names = tool_names(messages)
    contents: list[dict[str, Any]] = []
    for message in messages:
        if message.role in SYSTEM_ROLES:
            continue
        role, parts = _turn(message, names)
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return contents


def _generation_config(call: UpstreamCall) -> dict[str, Any]:
    params = call.params
    config: dict[str, Any] = {}
    for name, key in _CONFIG:
        if (value := getattr(params, name)) is not None:
            config[key] = value
    limit = params.max_completion_tokens
    if limit is None:
        limit = params.max_tokens
    if limit is not None:
        config["maxOutputTokens"] = limit
    if params.stop:
        config["stopSequences"] = list(params.stop)
    config.update(config_fields(params))
    if params.wants_images:  # Gemini's image output: ["TEXT", "IMAGE"], or only ["IMAGE"]
        config["responseModalities"] = [m.upper() for m in params.modalities]
    return config


def request_body(call: UpstreamCall) -> dict[str, Any]:
    """The upstream JSON (raises a 400 :class:`ProviderError` for what Gemini cannot take)."""
    body: dict[str, Any] = {"contents": _contents(call.messages)}
    if system := system_text(call.messages):
        body["systemInstruction"] = {"parts": [{"text": text} for text in system]}
    if config := _generation_config(call):
        body["generationConfig"] = config
    body.update(tool_fields(call.params))
    merge(body, call.provider_options, GOOGLE_GEMINI)  # providerOptions.<provider>
    cap_output(body, GOOGLE_GEMINI, call.params.output_cap, call.max_output_tokens)  # what was held
    return body


def request_url(call: UpstreamCall) -> str:
    model = quote(call.provider_model_id.removeprefix("models/"), safe="-._~")
    if call.stream:
        return f"{call.base_url}/models/{model}:streamGenerateContent?alt=sse"
    return f"{call.base_url}/models/{model}:generateContent"


def request_headers(call: UpstreamCall) -> dict[str, str]:
    # The key travels in a header, never in the URL (URLs end up in logs and stack traces).
    return {
        "x-goog-api-key": call.api_key,
        "content-type": "application/json",
        "accept": "text/event-stream" if call.stream else "application/json",
    }


# -- responses --------------------------------------------------------------------------------


def error_from_body(status: int, body: Any, fallback: str = "") -> ProviderError:
    """``{"error": {"code", "message", "status", "details"}}``; Google's status name becomes
    ``code``. A rejected API key is reported as 401 whatever Google's status (it sends 400), so
    the router treats it as the credential failure it is."""
    if isinstance(body, list) and body:
        body = body[0]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message, name = as_text(error.get("message")), as_text(error.get("status"))
        reasons = {
            detail.get("reason")
            for detail in error.get("details") or ()
            if isinstance(detail, dict)
        }
        if reasons & _BAD_KEY_REASONS:
            status = 401
        elif not status:
            code = error.get("code")
            status = code if isinstance(code, int) else _HTTP_OF_STATUS.get(name, 0)
    else:
        message, name = as_text(error) or fallback, ""
    return ProviderError(
        status, message or f"provider answered HTTP {status}", type=envelope_type(status), code=name
    )


def error_from_response(status: int, raw: bytes) -> ProviderError:
    return error_from_body(status, json_or_none(raw), fallback_message(raw))


def usage_report(counts: dict[str, Any]) -> UsageReport:
    prompt = int(counts.get("promptTokenCount") or 0)
    thoughts = int(counts.get("thoughtsTokenCount") or 0)
    completion = int(counts.get("candidatesTokenCount") or 0) + thoughts
    image_tokens = sum(
        int(detail.get("tokenCount") or 0)
        for detail in counts.get("candidatesTokensDetails") or ()
        if isinstance(detail, dict) and detail.get("modality") == "IMAGE"
    )
    return UsageReport(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        cached_tokens=int(counts.get("cachedContentTokenCount") or 0),
        reasoning_tokens=thoughts,
        image_tokens=image_tokens,
    )


def finish_reason(reason: str, called_tools: bool) -> str:
    if reason == "MAX_TOKENS":
        return "length"
    if reason in _FILTERED:
        return "content_filter"
    return "tool_calls" if called_tools else "stop"


def _load(raw: bytes) -> dict[str, Any]:
    body = load_object(raw)
    if body.get("error"):
        raise error_from_body(0, body)
    return body


class ResponseParser:
    """``GenerateContentResponse`` objects of one response (one whole body, or one per SSE
    event) into typed events; the first candidate is the answer."""

    done = False  # a Gemini stream has no end marker

    def __init__(self, call_id: Callable[[], str] = new_call_id) -> None:
        self.finished = False  # a finishReason was seen
        self._started = False
        self._tools = 0
        self._call_id = call_id

    def feed(self, sse: SseEvent) -> list[ProviderEvent]:
        return self.response(_load(sse.data))

    def response(self, body: dict[str, Any]) -> list[ProviderEvent]:
        try:
            return self._events(body)
        except SHAPE_ERRORS as exc:
            raise malformed(exc) from exc

    def _events(self, body: dict[str, Any]) -> list[ProviderEvent]:
        events: list[ProviderEvent] = []
        if not self._started:
            self._started = True
            model = as_text(body.get("modelVersion"))
            events.append(ResponseStart(as_text(body.get("responseId")), model, 0, ""))
        candidates = body.get("candidates") or ()
        candidate: dict[str, Any] = next((c for c in candidates if c.get("index", 0) == 0), {})
        for part in (candidate.get("content") or {}).get("parts") or ():
            events.extend(self._part(part))
        reason = as_text(candidate.get("finishReason"))
        if not candidates and (body.get("promptFeedback") or {}).get("blockReason"):
            reason = "SAFETY"  # the prompt itself was refused
        if reason:
            self.finished = True
            events.append(FinishReason(finish_reason(reason, self._tools > 0)))
        # Every chunk carries the usage so far: passing each on means a stream that breaks off
        # is still accounted with what the provider counted up to then.
        if isinstance(usage := body.get("usageMetadata"), dict):
            events.append(usage_report(usage))
        return events

    def _part(self, part: dict[str, Any]) -> list[ProviderEvent]:
        events: list[ProviderEvent] = []
        if isinstance(call := part.get("functionCall"), dict):
            arguments = orjson.dumps(call.get("args") or {}).decode()
            call_id = as_text(call.get("id")) or self._call_id()
            events.append(ToolCallDelta(self._tools, call_id, as_text(call.get("name")), arguments))
            self._tools += 1
        elif isinstance(blob := part.get("inlineData"), dict) and not part.get("thought"):
            media_type = as_text(blob.get("mimeType")) or "image/png"
            if media_type.startswith("image/"):  # a generated image, whole in one part
                events.append(ImageDelta(f"data:{media_type};base64,{as_text(blob.get('data'))}"))
        elif text := as_text(part.get("text")):
            events.append(
                ReasoningDelta(text, format=REASONING_FORMAT)
                if part.get("thought")
                else TextDelta(text)
            )
        if signature := part.get("thoughtSignature"):
            events.append(ReasoningDelta(signature=as_text(signature), format=REASONING_FORMAT))
        return events


def parse_response(raw: bytes) -> list[ProviderEvent]:
    """A whole ``generateContent`` answer as the same events a stream would give."""
    return ResponseParser().response(_load(raw))
