"""JSON helpers every wire format uses: decoding a provider's body into an object, the error for
a response that is not what the API documents, and plain-text coercion."""

from __future__ import annotations

from typing import Any

import orjson

from tollgate_router.providers.base import ProviderError

# What parsing a provider's JSON can raise when a field has an unexpected shape.
SHAPE_ERRORS = (AttributeError, TypeError, ValueError, KeyError)


def as_text(value: Any) -> str:
    return "" if value is None else str(value)


def json_or_none(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def load_object(raw: bytes) -> dict[str, Any]:
    """``raw`` as a JSON object, or a :class:`ProviderError` (status 0) saying what was wrong."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProviderError(0, "the provider sent malformed JSON", type="api_error") from exc
    if not isinstance(body, dict):
        raise ProviderError(0, "the provider sent an unexpected JSON value", type="api_error")
    return body


def malformed(exc: Exception) -> ProviderError:
    return ProviderError(
        0, f"the provider sent an unexpected response ({type(exc).__name__})", type="api_error"
    )


def envelope_type(status: int) -> str:
    """The OpenAI error ``type`` for a provider's HTTP status when its own body has none."""
    return "invalid_request_error" if 400 <= status < 500 else "api_error"


def fallback_message(raw: bytes) -> str:
    """The start of a non-JSON error body, for the error message."""
    return raw[:500].decode("utf-8", "replace").strip()
