"""OpenAI Chat Completions response bodies as the fake upstream sends them: the
``chat.completion`` object, ``chat.completion.chunk`` SSE frames and the error envelope, shaped
like recorded OpenAI traffic (``research/protocols.md`` §5)."""

from __future__ import annotations

import secrets
from typing import Any

import orjson

FINGERPRINT = "fp_fake0openai"

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def error_body(
    status: int, message: str = "", type_: str = "", code: str | None = "", param: str | None = None
) -> bytes:
    """OpenAI's error envelope for ``status`` (every key present, as the spec requires)."""
    default_type, default_code, default_message = _ERRORS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None, "Error.")
    )
    return orjson.dumps(
        {
            "error": {
                "message": message or default_message,
                "type": type_ or default_type,
                "param": param,
                "code": default_code if code == "" else code,
            }
        }
    )


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def usage_of(prompt: int, completion: int, cached: int, reasoning: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion + reasoning,
        "total_tokens": prompt + completion + reasoning,
        "prompt_tokens_details": {"cached_tokens": min(cached, prompt), "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def tool_calls_of(scripted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scripted calls (``{name, arguments}``, arguments an object or JSON text) as OpenAI's
    ``tool_calls`` with ``call_`` ids."""
    calls = []
    for call in scripted:
        arguments = call.get("arguments") or {}
        if not isinstance(arguments, str):
            arguments = orjson.dumps(arguments).decode()
        calls.append(
            {
                # A scripted id, even empty (as some compatible APIs send), else a new one.
                "id": call["id"] if "id" in call else f"call_{secrets.token_urlsafe(18)}",
                "type": "function",
                "function": {"name": call["name"], "arguments": arguments},
            }
        )
    return calls


def completion(
    ident: str,
    created: int,
    model: str,
    content: str,
    finish: str,
    usage: dict[str, Any],
    tool_calls: list[dict[str, Any]] | None = None,
) -> bytes:
    """A ``chat.completion`` object (``content`` null when the answer only calls tools)."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if tool_calls and not content else content,
        "refusal": None,
        "annotations": [],
    }
    if tool_calls:
        message["tool_calls"] = tool_calls
    return orjson.dumps(
        {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": usage,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
        }
    )


def chunk_frames(
    ident: str,
    created: int,
    model: str,
    pieces: list[str],
    finish: str,
    usage: dict[str, Any] | None,
    tool_calls: list[dict[str, Any]] | None = None,
) -> list[bytes]:
    """SSE frames: the role-only first delta, one frame per piece, the tool calls as OpenAI
    streams them (per call: ``index``, ``id``, ``type``, ``function.name`` and empty arguments,
    then argument fragments by ``index``), the finish frame, the usage frame with
    ``choices: []`` when ``usage`` is given (then every other chunk has ``"usage": null``), and
    ``[DONE]``."""
    head = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }

    def frame(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        payload = {**head, "choices": [choice]}
        if usage is not None:
            payload["usage"] = None
        return b"data: " + orjson.dumps(payload) + b"\n\n"

    frames = [frame({"role": "assistant", "content": "", "refusal": None})]
    frames += [frame({"content": piece}) for piece in pieces]
    for index, call in enumerate(tool_calls or ()):
        function = call["function"]
        first = {"index": index, "id": call["id"], "type": "function"}
        first["function"] = {"name": function["name"], "arguments": ""}
        frames.append(frame({"tool_calls": [first]}))
        arguments = function["arguments"]
        half = len(arguments) // 2
        for fragment in (arguments[:half], arguments[half:]):
            if fragment:
                part = {"index": index, "function": {"arguments": fragment}}
                frames.append(frame({"tool_calls": [part]}))
    frames.append(frame({}, finish))
    if usage is not None:
        frames.append(b"data: " + orjson.dumps({**head, "choices": [], "usage": usage}) + b"\n\n")
    frames.append(b"data: [DONE]\n\n")
    return frames
