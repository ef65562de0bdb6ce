"""The one decoder of JSON request bodies: every JSON endpoint reads its body through here, so
malformed, non-object and too deeply nested bodies get the same 400 everywhere.

The depth limit is the edge's own: orjson parses up to 1024 levels, but encoding one (a tool's
schema, provider options passed on) fails past 254, and nothing a client legitimately sends
nests anywhere near :data:`MAX_JSON_DEPTH`. Without the limit such a body reached a 500.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from tollgate_edge.errors import invalid_request

# Levels of objects and arrays a request body may nest (the body itself is level 1).
MAX_JSON_DEPTH: Final = 64


def decode(raw: bytes) -> Any:
    """``raw`` as JSON, else a 400 ``invalid_request_error``."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):  # deeper than orjson itself goes
            raise _too_deep(None) from None
        raise invalid_request("the request body is not valid JSON") from None
    _check_depth(data)
    return data


def json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, else a 400."""
    data = decode(raw)
    if not isinstance(data, dict):
        raise invalid_request("the request body must be a JSON object")
    return data


def _too_deep(param: str | None) -> Exception:
    where = f"`{param}`" if param else "the request body"
    return invalid_request(f"{where} nests deeper than {MAX_JSON_DEPTH} levels", param)


def _check_depth(data: Any) -> None:
    """A 400 naming the top-level field whose value nests past :data:`MAX_JSON_DEPTH`."""
    pending: list[tuple[Any, int, str | None]] = [(data, 1, None)]
    while pending:
        value, depth, param = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep(param)
        if isinstance(value, dict):
            for key, child in value.items():
                if isinstance(child, dict | list):
                    pending.append((child, depth + 1, key if depth == 1 else param))
        elif isinstance(value, list):
            for child in value:
                if isinstance(child, dict | list):
                    pending.append((child, depth + 1, param))
