"""The router's kept responses (``StoreResponse``, ``GetStoredResponse``,
``DeleteStoredResponse``), always asked for the caller's team: another team's id is a 404, as
an unknown one is."""

from __future__ import annotations

import logging
from typing import Any

import grpc
import orjson
from aiohttp import web
from tollgate.router.v1 import router_pb2

from tollgate_edge.errors import ApiError, from_rpc
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata

log = logging.getLogger(__name__)


async def save(
    request: web.Request,
    caller: router_pb2.CallerContext,
    body: dict[str, Any],
    conversation: list[dict[str, Any]],
) -> None:
    """Keep the response and its conversation. A failure is logged, not raised: the answer
    was generated and billed, so the client gets it (a later ``previous_response_id`` naming
    it is then a 404)."""
    kept = router_pb2.StoredResponse(
        id=body["id"],
        response_json=orjson.dumps(body).decode(),
        input_json=orjson.dumps(conversation).decode(),
    )
    try:
        await request.app[PEERS].router.StoreResponse(
            router_pb2.StoreResponseRequest(caller=caller, response=kept),
            metadata=call_metadata(request),
            timeout=request.app[SETTINGS].rpc_deadline_seconds,
        )
    except grpc.aio.AioRpcError as exc:
        log.warning("storing response %s failed: %s", body["id"], exc.code().name)


async def load(
    request: web.Request, caller: router_pb2.CallerContext, resp_id: str
) -> router_pb2.StoredResponse:
    """The team's kept response; an :class:`ApiError` 404 when there is none."""
    try:
        reply = await request.app[PEERS].router.GetStoredResponse(
            router_pb2.GetStoredResponseRequest(caller=caller, id=resp_id),
            metadata=call_metadata(request),
            timeout=request.app[SETTINGS].rpc_deadline_seconds,
        )
    except grpc.aio.AioRpcError as exc:
        raise from_rpc(exc) from None
    return reply.response


async def history(
    request: web.Request, caller: router_pb2.CallerContext, resp_id: str
) -> list[dict[str, Any]]:
    """What ``previous_response_id`` prepends: that response's conversation and its output."""
    try:
        kept = await load(request, caller, resp_id)
    except ApiError as exc:
        if exc.status != 404:
            raise
        raise ApiError(
            404,
            "invalid_request_error",
            f"Previous response with id '{resp_id}' not found.",
            param="previous_response_id",
            code="previous_response_not_found",
        ) from None
    conversation: list[dict[str, Any]] = orjson.loads(kept.input_json)
    output: list[dict[str, Any]] = orjson.loads(kept.response_json)["output"]
    return conversation + output


async def forget(request: web.Request, caller: router_pb2.CallerContext, resp_id: str) -> None:
    try:
        await request.app[PEERS].router.DeleteStoredResponse(
            router_pb2.DeleteStoredResponseRequest(caller=caller, id=resp_id),
            metadata=call_metadata(request),
            timeout=request.app[SETTINGS].rpc_deadline_seconds,
        )
    except grpc.aio.AioRpcError as exc:
        raise from_rpc(exc) from None
