"""Server interceptor: request id into the context, domain errors into rich statuses."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from tollgate_common.context import REQUEST_ID_METADATA, request_id_var
from tollgate_common.errors import DomainError

log = logging.getLogger(__name__)

_INTERNAL = "internal error"


def _request_id(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_METADATA and isinstance(value, str):
            return value
    return ""


def status_of(exc: BaseException) -> grpc.Status:
    """The status a call whose handler raised ``exc`` ends with: a DomainError's code, message
    and ErrorInfo; anything else INTERNAL with a generic message (logged here only)."""
    if isinstance(exc, DomainError):
        return exc.to_status()
    log.error("unexpected error in RPC handler", exc_info=exc)
    return _Status(grpc.StatusCode.INTERNAL, _INTERNAL, ())


class _Status(grpc.Status):
    def __init__(
        self, code: grpc.StatusCode, details: str, trailing_metadata: tuple[Any, ...]
    ) -> None:
        self.code, self.details, self.trailing_metadata = code, details, trailing_metadata


async def _fail(context: grpc.aio.ServicerContext[Any, Any], exc: BaseException) -> None:
    status = status_of(exc)
    await context.abort(status.code, status.details, status.trailing_metadata)


def _wrap_unary(
    behavior: Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]],
) -> Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]:
    async def handler(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        token = request_id_var.set(_request_id(context))
        try:
            return await behavior(request, context)
        except (DomainError, Exception) as exc:
            if isinstance(exc, grpc.aio.AbortError):
                raise
            await _fail(context, exc)
        finally:
            request_id_var.reset(token)

    return handler


def _wrap_stream(
    behavior: Callable[[Any, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Any]],
) -> Callable[[Any, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Any]]:
    async def handler(
        request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        token = request_id_var.set(_request_id(context))
        try:
            async for item in behavior(request, context):
                yield item
        except (DomainError, Exception) as exc:
            if isinstance(exc, grpc.aio.AbortError):
                raise
            await _fail(context, exc)
        finally:
            request_id_var.reset(token)

    return handler


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Maps DomainError to status + ErrorInfo; anything else to INTERNAL (logged here only)."""

    def __init__(self) -> None:
        # The wrapped handler of each (method, registered handler): built once, not per call.
        self._wrapped: dict[tuple[str, int], Any] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler: Any = await continuation(handler_call_details)
        if handler is None:
            return handler
        key = (handler_call_details.method, id(handler))
        wrapped = self._wrapped.get(key)
        if wrapped is None:
            wrapped = self._wrapped[key] = (handler, self._wrap(handler))
        return wrapped[1]

    @staticmethod
    def _wrap(handler: Any) -> Any:
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler
