"""``POST /v1/messages`` and ``POST /v1/messages/count_tokens``.

A message runs through the same ``StreamGenerate`` as a chat completion (routing, credit holds,
caps, usage facts, billing, the request log); only the framing differs. As on the chat surface
nothing reaches the client before the router's ``started`` event, so a failure before it is a
proper HTTP status; after it, a failure is one ``event: error`` that ends the stream."""

from __future__ import annotations

import logging

import grpc
from aiohttp import web
from tollgate.router.v1 import router_pb2

from tollgate_edge.chat import Events, broken_stream, caller_context, generation
from tollgate_edge.chat import generation_error as router_error
from tollgate_edge.chat_request import ChatRequest
from tollgate_edge.errors import ApiError, from_rpc
from tollgate_edge.idempotency import HEADER, idempotency_key, replayed_headers
from tollgate_edge.identity import inference_caller
from tollgate_edge.json_body import json_object
from tollgate_edge.messages.count import estimate_input_tokens
from tollgate_edge.messages.errors import anthropic_errors, sse_error
from tollgate_edge.messages.request import MessagesRequest, count_request, parse_messages_request
from tollgate_edge.messages.response import (
    PING,
    Blocks,
    message_body,
    message_end,
    message_start,
)
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata, request_id
from tollgate_edge.rate_limit_headers import served_headers
from tollgate_edge.responses import JSON, json_response
from tollgate_edge.sse import SseBody

log = logging.getLogger(__name__)

# The request log's name for this API (the usage fact's ``surface``).
SURFACE = "messages"


@anthropic_errors
async def create_message(request: web.Request) -> web.StreamResponse:
    caller = inference_caller(request)
    rid = request_id(request)
    context = caller_context(caller, request, rid)
    context.surface = SURFACE
    body = await request.read()
    parsed = parse_messages_request(body, context)
    if HEADER in request.headers:  # the body is decoded again only for the key's hash
        # The hash names the surface: the same key on another endpoint is another body.
        key = idempotency_key(request, {"surface": SURFACE, "body": json_object(body)})
        if key is not None:
            parsed.rpc.idempotency.CopyFrom(key)
    async with generation(request, _as_chat(parsed), rid) as (started, events):
        model = parsed.rpc.model
        headers = replayed_headers(started.replayed) | served_headers(started.rate_limit)
        if parsed.stream:
            return await _stream(request, started.generation_id, model, events, headers)
        return await _collect(started.generation_id, model, events, headers)


@anthropic_errors
async def count_tokens(request: web.Request) -> web.StreamResponse:
    """An estimate of the prompt's input tokens, by the rule the credit pre-flight uses, for a
    model of the catalog (an unknown one is a 404, as a message for it would be)."""
    inference_caller(request)
    rpc = count_request(await request.read())
    await request.app[PEERS].router.GetModel(
        router_pb2.GetModelRequest(id=rpc.model),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response({"input_tokens": estimate_input_tokens(rpc)})


def _as_chat(parsed: MessagesRequest) -> ChatRequest:
    """The request as the chat surface's generation runs it (the RPC is the same)."""
    return ChatRequest(rpc=parsed.rpc, stream=parsed.stream, include_usage=False)


async def _collect(
    message_id: str, model: str, events: Events, headers: dict[str, str]
) -> web.Response:
    blocks = Blocks()
    usage: router_pb2.Usage | None = None
    finished: router_pb2.GenerationFinished | None = None
    try:
        async for item in events:
            kind = item.WhichOneof("event")
            if kind == "text_delta":
                blocks.text(item.text_delta.text)
            elif kind == "tool_call_delta":
                blocks.tool_call(item.tool_call_delta)
            elif kind == "reasoning_delta":
                blocks.reasoning(item.reasoning_delta)
            elif kind == "usage":
                usage = item.usage
            elif kind == "finished":
                finished = item.finished
            elif kind == "error":
                raise router_error(item)
    except grpc.aio.AioRpcError as exc:
        raise from_rpc(exc) from None
    if finished is None:
        raise broken_stream()
    body = message_body(message_id, model, blocks, finished, usage)
    return web.Response(body=body, content_type=JSON, headers=headers)


async def _stream(
    request: web.Request, message_id: str, model: str, events: Events, headers: dict[str, str]
) -> web.StreamResponse:
    body = SseBody(headers, events)
    try:
        await body.open(request, message_start(message_id, model) + PING)
        blocks = Blocks()
        try:
            tail = await _relay(body, blocks, events)
        except grpc.aio.AioRpcError as exc:
            tail = sse_error(from_rpc(exc))
        except ConnectionResetError:
            raise
        except Exception:
            # The status line has gone out: a bug here can only end the stream in-band.
            log.exception("relaying a message failed")
            tail = sse_error(ApiError(500, "api_error", "internal error"))
        await body.end(tail)
    except ConnectionResetError:
        pass  # the client went away; leaving the generation block cancels the RPC
    return body.response


async def _relay(body: SseBody, blocks: Blocks, events: Events) -> bytes:
    """Send each delta as it arrives; returns the closing events (or the error event)."""
    usage: router_pb2.Usage | None = None
    finish_reason: str | None = None
    async for item in events:
        kind = item.WhichOneof("event")
        out: list[bytes] = []
        if kind == "text_delta":
            out = blocks.text(item.text_delta.text)
        elif kind == "tool_call_delta":
            out = blocks.tool_call(item.tool_call_delta)
        elif kind == "reasoning_delta":
            out = blocks.reasoning(item.reasoning_delta)
        elif kind == "usage":
            usage = item.usage
            continue  # the end follows: what is held goes out with it
        elif kind == "finished":
            finish_reason = item.finished.finish_reason
            continue
        elif kind == "error":
            return b"".join(blocks.close()) + sse_error(router_error(item))
        await body.send(b"".join(out))
    if finish_reason is None:
        return sse_error(broken_stream())
    return b"".join(blocks.close()) + message_end(finish_reason, usage)
