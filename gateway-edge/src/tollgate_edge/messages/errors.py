"""Anthropic's error envelope, ``{"type": "error", "error": {"type", "message"}}``, over the
edge's one error map (:mod:`tollgate_edge.errors`): the status stays the edge's, the ``type`` is
the Anthropic one of that status, so the anthropic SDKs raise their usual error classes."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import orjson
from aiohttp import web

from tollgate_edge.errors import ApiError, from_http_exception, from_rpc
from tollgate_edge.responses import json_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def error_type(status: int) -> str:
    """Anthropic's ``error.type`` of an HTTP status."""
    found = _TYPE_BY_STATUS.get(status)
    if found is not None:
        return found
    return "invalid_request_error" if status < 500 else "api_error"


def envelope(error: ApiError) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type(error.status), "message": error.message}}


def error_response(error: ApiError) -> web.Response:
    headers = dict(error.headers)  # a rate limit's x-ratelimit-* headers
    if error.retry_after:
        headers["Retry-After"] = error.retry_after
    return json_response(envelope(error), error.status, headers or None)


def sse_error(error: ApiError) -> bytes:
    """The ``event: error`` that ends a stream which had already started."""
    return b"event: error\ndata: " + orjson.dumps(envelope(error)) + b"\n\n"


def anthropic_errors(handler: Handler) -> Handler:
    """Answer the handler's failures in Anthropic's envelope instead of OpenAI's."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except grpc.aio.AioRpcError as exc:
            return error_response(from_rpc(exc))
        except ApiError as exc:
            return error_response(exc)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return error_response(from_http_exception(exc, request.path))

    return wrapped
