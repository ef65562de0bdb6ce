"""The one place that maps failures to HTTP statuses and the OpenAI error envelope.

gRPC status + ``google.rpc.ErrorInfo`` → HTTP follows the table in docs/internal-contracts.md;
``ErrorInfo.metadata`` may add ``param`` and override with ``http_status`` / ``type`` / ``code``.
The router never names an HTTP status: it says why (the reason) and, for a provider's refusal
(``PROVIDER_REJECTED``) or a provider failing mid-answer (a ``GenerationError`` of its stream),
the provider's own status as a detail; what the client sees of them is decided here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import orjson
from aiohttp import web
from tollgate_common.context import REQUEST_ID_METADATA, request_id_var
from tollgate_common.errors import ErrorDetails, error_details

from tollgate_edge.rate_limit_headers import refusal_headers
from tollgate_edge.responses import json_response

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TYPE_BY_HTTP = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_funds",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    429: "rate_limit_exceeded",
    502: "api_error",
    503: "service_unavailable",
    504: "timeout_error",
}

_GENERIC_MESSAGE = {
    "invalid_request_error": "invalid request",
    "authentication_error": "authentication failed",
    "forbidden": "forbidden",
    "not_found": "not found",
    "conflict": "conflict",
    "model_not_found": "model not found",
    "insufficient_funds": "insufficient funds",
    "budget_exceeded": "a budget is used up for the current period",
    "rate_limit_exceeded": "rate limit exceeded",
    "service_unavailable": "no provider is available for this request",
    "api_error": "upstream service unavailable",
    "timeout_error": "the request timed out",
    "internal_server_error": "internal error",
}

_RETRY_STATUSES = frozenset({429, 503})
_DEFAULT_RETRY_AFTER = "1"


def type_for_status(status: int) -> str:
    """The OpenAI ``type`` string of an HTTP status."""
    found = _TYPE_BY_HTTP.get(status)
    if found is not None:
        return found
    return "invalid_request_error" if status < 500 else "internal_server_error"


class ApiError(Exception):
    """An error the client sees: HTTP status plus the OpenAI envelope."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.param = param
        self.code = code
        if retry_after is None and status in _RETRY_STATUSES:
            retry_after = _DEFAULT_RETRY_AFTER
        self.retry_after = retry_after
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self, extra: dict[str, Any] | None = None) -> web.Response:
        payload = self.envelope()
        if extra:
            payload.update(extra)
        headers = dict(self.headers)
        if self.retry_after:
            headers["Retry-After"] = self.retry_after
        return json_response(payload, self.status, headers or None)

    def sse_event(self) -> bytes:
        """The one ``data:`` event that reports a failure after a stream has started."""
        return b"data: " + orjson.dumps(self.envelope()) + b"\n\n"


def invalid_request(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, "invalid_request_error", message, param=param)


def not_found(message: str = "not found") -> ApiError:
    return ApiError(404, "not_found", message)


def _mapped(code: grpc.StatusCode, reason: str) -> tuple[int, str]:
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return 400, "invalid_request_error"
    if code is grpc.StatusCode.UNAUTHENTICATED:
        return 401, "authentication_error"
    if code is grpc.StatusCode.PERMISSION_DENIED:
        return 403, "forbidden"
    if code in (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.ABORTED):
        return 409, "conflict"
    if code is grpc.StatusCode.NOT_FOUND:
        return (404, "model_not_found") if reason == "MODEL_NOT_FOUND" else (404, "not_found")
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED:
        if reason == "INSUFFICIENT_FUNDS":
            return 402, "insufficient_funds"
        if reason == "BUDGET_EXCEEDED":  # 402, not 429: retrying does not help until it resets
            return 402, "budget_exceeded"
        return 429, "rate_limit_exceeded"
    if code is grpc.StatusCode.UNAVAILABLE:
        if reason in ("NO_PROVIDER_AVAILABLE", "BILLING_UNAVAILABLE"):
            return 503, "service_unavailable"
        if _peer_down(code, reason):
            return 503, "service_unavailable"
        return 502, "api_error"
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return 504, "timeout_error"
    return 500, "internal_server_error"


# A peer that is down or restarting (no ErrorInfo: gRPC itself failed the call) is a 503 the
# client may retry, not a bad answer from upstream.
_PEER_DOWN_MESSAGE = "a Tollgate service is unavailable; retry shortly"


def _peer_down(code: grpc.StatusCode, reason: str) -> bool:
    return code is grpc.StatusCode.UNAVAILABLE and reason in ("", code.name)


# A provider refused the request as the caller's mistake: the client gets the provider's own
# status, error type, code and param (``provider_status``, ``type``, ``code``, ``param``).
PROVIDER_REJECTED = "PROVIDER_REJECTED"
# Tollgate's own rate limits: the type is OpenAI's (``requests`` or ``tokens``), from billing.
RATE_LIMITED = "RATE_LIMITED"
# Reasons whose answer carries no ``code`` of their own: the type says it all.
_UNCODED_REASONS = frozenset({"BILLING_UNAVAILABLE"})


def _error_status(raw: str) -> int | None:
    if not (raw.isascii() and raw.isdigit()):
        return None
    status = int(raw)
    return status if 400 <= status <= 599 else None


def _http_override(details: ErrorDetails) -> int | None:
    """The HTTP status a service asked for (``http_status``), or a provider's own for its
    refusal, passed through."""
    if details.reason == PROVIDER_REJECTED:
        return _error_status(details.metadata.get("provider_status", ""))
    return _error_status(details.metadata.get("http_status", ""))


def from_details(details: ErrorDetails) -> ApiError:
    """Map a failed RPC's status + ErrorInfo (docs/internal-contracts.md, Errors)."""
    metadata = details.metadata
    override = _http_override(details)
    if override is not None:
        status, type_ = override, metadata.get("type") or type_for_status(override)
        code = metadata.get("code") or None
    else:
        status, type_ = _mapped(details.code, details.reason)
        if details.reason == RATE_LIMITED:
            type_ = metadata.get("type") or type_
        generic_reason = details.reason in ("", details.code.name, *_UNCODED_REASONS)
        code = metadata.get("code") or (None if generic_reason else details.reason.lower())
    # Without an ErrorInfo the failure did not come from our domain code (a peer down, a
    # deadline, a crash): its text may name internal addresses, so the client gets a generic one.
    if details.reason and details.message:
        message = details.message
    elif override is None and _peer_down(details.code, details.reason):
        message = _PEER_DOWN_MESSAGE
    else:
        message = _GENERIC_MESSAGE.get(type_, "internal error")
    retry_after = metadata.get("retry_after")
    if retry_after is not None and not (retry_after.isascii() and retry_after.isdigit()):
        retry_after = None
    return ApiError(
        status,
        type_,
        message,
        param=metadata.get("param") or None,
        code=code,
        retry_after=retry_after,
        headers=refusal_headers(metadata) if details.reason == RATE_LIMITED else None,
    )


def from_rpc(error: grpc.aio.AioRpcError) -> ApiError:
    return from_details(error_details(error))


def from_generation_error(reason: str, message: str, provider_status: int, code: str) -> ApiError:
    """A ``GenerationError`` event of the router's stream: the answer had started when the
    provider failed (``PROVIDER_ERROR``). The client gets the provider's own status when it
    sent one, else 502; an ``api_error`` (a reason this map does not know: its status's type)."""
    status = _error_status(str(provider_status)) or 502
    type_ = "api_error" if reason == "PROVIDER_ERROR" else type_for_status(status)
    return ApiError(
        status,
        type_,
        message or _GENERIC_MESSAGE.get(type_, "internal error"),
        code=code or None,
    )


def from_http_exception(exc: web.HTTPException, path: str) -> ApiError:
    """aiohttp's own errors: unknown path, wrong method, body too large, ..."""
    status = exc.status
    if status == 404:
        return not_found(f"no such endpoint: {path}")
    if status == 405 and isinstance(exc, web.HTTPMethodNotAllowed):
        return ApiError(405, "invalid_request_error", f"method {exc.method} not allowed on {path}")
    if status == 413:
        return ApiError(
            413, "invalid_request_error", "request body too large", code="request_too_large"
        )
    type_ = type_for_status(status)
    return ApiError(status, type_, exc.text or _GENERIC_MESSAGE.get(type_, "error"))


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes the OpenAI envelope; the request id goes into log records."""
    token = request_id_var.set(request.headers.get(REQUEST_ID_METADATA, ""))
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except grpc.aio.AioRpcError as exc:
        return from_rpc(exc).response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        mapped = from_http_exception(exc, request.path)
        response = mapped.response()
        if isinstance(exc, web.HTTPMethodNotAllowed):
            response.headers["Allow"] = ",".join(sorted(exc.allowed_methods))
        return response
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return ApiError(500, "internal_server_error", "internal error").response()
    finally:
        request_id_var.reset(token)
