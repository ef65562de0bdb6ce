"""OpenAI Chat Completions response bodies as the fake upstream sends them: the
``chat.completion`` object, ``chat.completion.chunk`` SSE frames and the error envelope, shaped
like recorded OpenAI traffic; and the Embeddings API's ``list``
of ``embedding`` objects (§5.7)."""

from __future__ import annotations

import secrets
from typing import Any

import orjson

from tests.fakes.embedding_vectors import as_base64, fake_vector

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


# -- embeddings ---------------------------------------------------------------------------------

_MAX_EMBEDDING_INPUTS = 2048


def _is_tokens(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(t, int) and not isinstance(t, bool) for t in value)
    )


def embedding_inputs(raw: Any) -> list[str | list[int]] | None:
    """OpenAI's input shapes as a list of inputs; None when the shape is not one of them."""
    if isinstance(raw, str):
        return [raw] if raw else None
    if not isinstance(raw, list) or not raw or len(raw) > _MAX_EMBEDDING_INPUTS:
        return None
    if all(isinstance(item, str) and item for item in raw):
        return list(raw)
    if _is_tokens(raw):
        return [raw]
    if all(_is_tokens(item) for item in raw):
        return list(raw)
    return None


def embeddings_problem(body: Any) -> tuple[str, str | None] | None:
    """What OpenAI would reject in an embeddings request: (message, param), else None."""
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request.", None
    if not body.get("model"):
        return "you must provide a model parameter", None
    if "input" not in body:
        return "Missing required parameter: 'input'.", "input"
    if embedding_inputs(body["input"]) is None:
        return "'$.input' is invalid. Please check the API reference.", "input"
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        return f"'{encoding}' is not one of ['float', 'base64'] - 'encoding_format'", None
    dimensions = body.get("dimensions")
    if dimensions is not None and (
        not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1
    ):
        return f"{dimensions} is less than the minimum of 1 - 'dimensions'", None
    if dimensions is not None and dimensions > default_dimensions(str(body["model"])):
        # OpenAI's text-embedding-3 models shorten a vector; none lengthens one past its size.
        return "This model does not support specifying dimensions larger than its own.", None
    return None


def default_dimensions(model: str) -> int:
    return 3072 if "large" in model else 1536


def embedding_list(body: dict[str, Any]) -> bytes:
    """The ``list`` of ``embedding`` objects for a valid request, with real usage counts."""
    inputs = embedding_inputs(body["input"]) or []
    model = str(body["model"])
    size = body.get("dimensions") or default_dimensions(model)
    base64 = body.get("encoding_format") == "base64"
    data = []
    for index, item in enumerate(inputs):
        vector = fake_vector(item, size)
        data.append(
            {
                "object": "embedding",
                "index": index,
                "embedding": as_base64(vector) if base64 else vector,
            }
        )
    tokens = sum(len(i.split()) if isinstance(i, str) else len(i) for i in inputs)
    return orjson.dumps(
        {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )
