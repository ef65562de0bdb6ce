"""``POST /v1/responses``, ``GET /v1/responses/{id}`` and ``DELETE /v1/responses/{id}``.

A response runs through the same ``StreamGenerate`` as a chat completion (routing, credit holds,
caps, usage facts, billing, the request log); only the framing differs. Nothing reaches the
client before the router's ``started`` event, so a failure before it is an HTTP status in
OpenAI's envelope; after it, a failure is a ``response.failed`` event that ends the stream. A
response with ``store`` (the default) is kept at the router before its last event goes out, so
a client can retrieve or continue it as soon as it has it."""

from __future__ import annotations

import logging
from typing import Any

import grpc
from aiohttp import web
from tollgate.router.v1 import router_pb2

from tollgate_edge.chat import Events, broken_stream, caller_context, generation
from tollgate_edge.chat import generation_error as router_error
from tollgate_edge.chat_request import ChatRequest
from tollgate_edge.errors import ApiError, from_rpc, not_found
from tollgate_edge.idempotency import HEADER, idempotency_key, replayed_headers
from tollgate_edge.identity import caller_of, inference_caller
from tollgate_edge.openai_responses import store
from tollgate_edge.openai_responses.body import (
    EventWriter,
    fail,
    finish,
    response_id,
    response_object,
)
from tollgate_edge.openai_responses.items import messages_of
from tollgate_edge.openai_responses.output import Event, Output
from tollgate_edge.openai_responses.request import ResponsesRequest, parse_responses_request
from tollgate_edge.peers import request_id
from tollgate_edge.rate_limit_headers import served_headers
from tollgate_edge.responses import JSON, json_response
from tollgate_edge.sse import SseBody

log = logging.getLogger(__name__)

# The request log's name for this API (the usage fact's ``surface``).
SURFACE = "responses"
_MAX_ID = 80


class _Answer:
    """One response being made: its object, its output items and where it is kept."""

    def __init__(
        self,
        request: web.Request,
        parsed: ResponsesRequest,
        started: router_pb2.GenerationStarted,
        conversation: list[dict[str, Any]],
    ) -> None:
        self.request = request
        self.parsed = parsed
        self.conversation = conversation
        resp_id = response_id(started.generation_id)
        self.body = response_object(resp_id, started.created.seconds, parsed.rpc.model, parsed.echo)
        self.output = Output(resp_id.removeprefix("resp_"))
        self.usage: router_pb2.Usage | None = None

    async def keep(self) -> None:
        if self.parsed.store:
            await store.save(self.request, self.parsed.rpc.caller, self.body, self.conversation)


async def create_response(request: web.Request) -> web.StreamResponse:
    caller = inference_caller(request)
    rid = request_id(request)
    context = caller_context(caller, request, rid)
    context.surface = SURFACE
    parsed, data = parse_responses_request(await request.read(), context)
    conversation = parsed.items
    if parsed.previous_response_id is not None:
        earlier = await store.history(request, context, parsed.previous_response_id)
        conversation = earlier + parsed.items
        parsed.rpc.ClearField("messages")
        parsed.rpc.messages.extend(messages_of(conversation, parsed.instructions))
    if HEADER in request.headers:
        # The hash names the surface: the same key on another endpoint is another body.
        key = idempotency_key(request, {"surface": SURFACE, "body": data})
        if key is not None:
            parsed.rpc.idempotency.CopyFrom(key)
    chat = ChatRequest(rpc=parsed.rpc, stream=parsed.stream, include_usage=False)
    async with generation(request, chat, rid) as (started, events):
        answer = _Answer(request, parsed, started, conversation)
        headers = replayed_headers(started.replayed) | served_headers(started.rate_limit)
        if parsed.stream:
            return await _stream(answer, events, headers)
        return await _collect(answer, events, headers)


def _response_id(request: web.Request) -> str:
    resp_id = request.match_info["response_id"]
    if len(resp_id) > _MAX_ID:
        raise not_found(f"No response found with id '{resp_id[:_MAX_ID]}...'.")
    return resp_id


async def get_response(request: web.Request) -> web.StreamResponse:
    caller = caller_of(request)
    context = caller_context(caller, request, request_id(request))
    kept = await store.load(request, context, _response_id(request))
    return web.Response(body=kept.response_json.encode(), content_type=JSON)


async def delete_response(request: web.Request) -> web.StreamResponse:
    caller = inference_caller(request)
    context = caller_context(caller, request, request_id(request))
    resp_id = _response_id(request)
    await store.forget(request, context, resp_id)
    return json_response({"id": resp_id, "object": "response.deleted", "deleted": True})


async def _collect(answer: _Answer, events: Events, headers: dict[str, str]) -> web.Response:
    output = answer.output
    finished: router_pb2.GenerationFinished | None = None
    try:
        async for item in events:
            kind = item.WhichOneof("event")
            if kind == "text_delta":
                output.text(item.text_delta.text)
            elif kind == "tool_call_delta":
                output.tool_call(item.tool_call_delta)
            elif kind == "reasoning_delta":
                output.reasoning(item.reasoning_delta)
            elif kind == "usage":
                answer.usage = item.usage
            elif kind == "finished":
                finished = item.finished
            elif kind == "error":
                raise router_error(item)
    except grpc.aio.AioRpcError as exc:
        raise from_rpc(exc) from None
    if finished is None:
        raise broken_stream()
    output.close(_item_status(finished.finish_reason))
    finish(answer.body, output.items, finished, answer.usage)
    await answer.keep()
    return json_response(answer.body, headers=headers)


def _item_status(finish_reason: str) -> str:
    return "incomplete" if finish_reason in ("length", "content_filter") else "completed"


async def _stream(answer: _Answer, events: Events, headers: dict[str, str]) -> web.StreamResponse:
    body = SseBody(headers, events)
    writer = EventWriter()
    try:
        await body.open(
            answer.request,
            writer.frame("response.created", {"response": answer.body})
            + writer.frame("response.in_progress", {"response": answer.body}),
        )
        try:
            tail = await _relay(body, writer, answer, events)
        except grpc.aio.AioRpcError as exc:
            tail = await _failed(writer, answer, from_rpc(exc))
        except ConnectionResetError:
            raise
        except Exception:
            # The status line has gone out: a bug here can only end the stream in-band.
            log.exception("relaying a response failed")
            error = ApiError(500, "internal_server_error", "internal error")
            tail = await _failed(writer, answer, error)
        await body.end(tail)
    except ConnectionResetError:
        pass  # the client went away; leaving the generation block cancels the RPC
    return body.response


async def _failed(writer: EventWriter, answer: _Answer, error: ApiError) -> bytes:
    closing = writer.frames(answer.output.close("incomplete"))
    fail(answer.body, answer.output.items, error, answer.usage)
    await answer.keep()
    return closing + writer.frame("response.failed", {"response": answer.body})


async def _relay(body: SseBody, writer: EventWriter, answer: _Answer, events: Events) -> bytes:
    """Send each delta as it arrives; returns the closing events."""
    output = answer.output
    finished: router_pb2.GenerationFinished | None = None
    async for item in events:
        kind = item.WhichOneof("event")
        out: list[Event] = []
        if kind == "text_delta":
            out = output.text(item.text_delta.text)
        elif kind == "tool_call_delta":
            out = output.tool_call(item.tool_call_delta)
        elif kind == "reasoning_delta":
            out = output.reasoning(item.reasoning_delta)
        elif kind == "usage":
            answer.usage = item.usage
            continue  # the end follows: what is held goes out with it
        elif kind == "finished":
            finished = item.finished
            continue
        elif kind == "error":
            return await _failed(writer, answer, router_error(item))
        await body.send(writer.frames(out))
    if finished is None:
        return await _failed(writer, answer, broken_stream())
    closing = writer.frames(output.close(_item_status(finished.finish_reason)))
    finish(answer.body, output.items, finished, answer.usage)
    await answer.keep()
    last = "response.completed" if answer.body["status"] == "completed" else "response.incomplete"
    return closing + writer.frame(last, {"response": answer.body})
