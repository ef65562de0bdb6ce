"""The AI SDK protocol's error answers: the edge's one error map (``tollgate_edge.errors``), with
what the gateway client reads beyond the OpenAI envelope (docs/ai-sdk.md, Errors):
``model_not_found`` carries ``param: {"modelId": ...}`` (the client's
``GatewayModelNotFoundError.modelId``). The ``type`` strings the client maps to its error classes
(``authentication_error``, ``invalid_request_error``, ``rate_limit_exceeded``,
``model_not_found``, ``internal_server_error``, ``forbidden``) are already the edge's."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import grpc
from aiohttp import web

from tollgate_edge.errors import ApiError, from_rpc, invalid_request
from tollgate_edge.responses import json_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def required_header(request: web.Request, name: str) -> str:
    value = request.headers.get(name, "").strip()
    if not value:
        raise invalid_request(f"the `{name}` header is required", name)
    return value


def native_error(error: ApiError, model_id: str) -> web.Response:
    if error.type != "model_not_found" or not model_id:
        return error.response()
    payload = error.envelope()
    payload["error"]["param"] = {"modelId": model_id}
    headers = {"Retry-After": error.retry_after} if error.retry_after else None
    return json_response(payload, error.status, headers)


def native_errors(model_header: str) -> Callable[[Handler], Handler]:
    """Answer the handler's :class:`ApiError` the AI SDK way, naming the model of
    ``model_header``."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except grpc.aio.AioRpcError as exc:
                error = from_rpc(exc)
            except ApiError as exc:
                error = exc
            return native_error(error, request.headers.get(model_header, "").strip())

        return wrapped

    return decorate
