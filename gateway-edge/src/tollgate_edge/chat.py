"""``POST /v1/chat/completions``: OpenAI REST/SSE in, ``RouterService.StreamGenerate`` out.

Nothing reaches the client before the router's ``started`` event, so a failure before it (no
provider, no funds, unknown model, ...) is still a proper HTTP status. After the stream has started
a failure is one ``data: {"error": ...}`` event followed by ``data: [DONE]``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

import grpc
from aiohttp import web
from tollgate.router.v1 import router_pb2

from tollgate_edge.chat_request import ChatRequest, chat_request_from
from tollgate_edge.chat_response import (
    DONE,
    Answer,
    ChunkEncoder,
    ReasoningDetails,
    completion_body,
    gateway_metadata,
    image_entry,
)
from tollgate_edge.errors import ApiError, from_generation_error, from_rpc
from tollgate_edge.idempotency import idempotency_key, replayed_headers
from tollgate_edge.identity import Caller, inference_caller
from tollgate_edge.json_body import json_object
from tollgate_edge.lanes import LaneStream
from tollgate_edge.peers import PEERS, SETTINGS, Metadata, Peers, call_metadata, request_id
from tollgate_edge.rate_limit_headers import served_headers
from tollgate_edge.responses import JSON
from tollgate_edge.sse import SseBody

log = logging.getLogger(__name__)


class Cancellable(Protocol):
    """A call to the router, or a stream on a lane: cancelled when its reader leaves early."""

    def done(self) -> bool: ...

    def cancel(self) -> bool: ...


class _Stream(Cancellable, Protocol):
    def __aiter__(self) -> AsyncIterator[router_pb2.StreamGenerateResponse]: ...


def _never() -> bool:
    return False


class Events:
    """The router's events one by one, whether they came alone or in an EventBatch, and
    :meth:`ready`: whether the next one is here already (the rest of a batch, or a message the
    stream has received), so that a writer sends what arrived together at once
    (:mod:`tollgate_edge.sse`)."""

    def __init__(
        self,
        messages: AsyncIterator[router_pb2.StreamGenerateResponse],
        received: Callable[[], bool] = _never,
    ) -> None:
        self._messages = messages
        self._received = received
        self._batch: Sequence[router_pb2.StreamGenerateResponse] = ()
        self._next = 0  # the batch's next event

    def ready(self) -> bool:
        return self._next < len(self._batch) or self._received()

    def __aiter__(self) -> Events:
        return self

    async def __anext__(self) -> router_pb2.StreamGenerateResponse:
        while self._next >= len(self._batch):
            message = await anext(self._messages)
            if message.WhichOneof("event") != "batch":
                return message
            self._batch, self._next = message.batch.events, 0
        event = self._batch[self._next]
        self._next += 1
        return event


_MAX_ATTRIBUTION = 512
# Client headers passed on to the provider they belong to (the router's adapter decides).
PROVIDER_HEADERS = ("anthropic-beta",)
_MAX_PROVIDER_HEADER = 2048


def broken_stream() -> ApiError:
    return ApiError(502, "api_error", "the generation ended unexpectedly")


def caller_context(caller: Caller, request: web.Request, rid: str) -> router_pb2.CallerContext:
    headers = request.headers
    return router_pb2.CallerContext(
        team_id=caller.team_id,
        project_id=caller.project_id,
        key_id=caller.key_id,
        user_id=caller.user_id,
        request_id=rid,
        app_title=headers.get("x-title", "")[:_MAX_ATTRIBUTION],
        app_referer=headers.get("http-referer", "")[:_MAX_ATTRIBUTION],
    )


def provider_headers(request: web.Request) -> dict[str, str]:
    """The client's headers meant for a provider (``anthropic-beta``: model variants), repeated
    ones joined with commas as HTTP allows."""
    found: dict[str, str] = {}
    for name in PROVIDER_HEADERS:
        values = [v.strip() for v in request.headers.getall(name, ()) if v.strip()]
        if values:
            found[name] = ",".join(values)[:_MAX_PROVIDER_HEADER]
    return found


async def chat_completions(request: web.Request) -> web.StreamResponse:
    caller = inference_caller(request)
    rid = request_id(request)
    data = json_object(await request.read())
    chat = chat_request_from(data, caller_context(caller, request, rid))
    key = idempotency_key(request, data)
    if key is not None:
        chat.rpc.idempotency.CopyFrom(key)
    async with generation(request, chat, rid) as (started, events):
        model = started.model or chat.rpc.model
        if chat.stream:
            return await _stream(request, chat, started, model, events)
        return await _collect(chat, started, model, events)


@asynccontextmanager
async def generation(
    request: web.Request, chat: ChatRequest, rid: str
) -> AsyncIterator[tuple[router_pb2.GenerationStarted, Events]]:
    """Start ``chat`` on the router: its ``started`` event (a failure before it is raised as an
    :class:`ApiError`) and the events after it. Leaving the block cancels the generation
    upstream if it is still running (client gone, deadline hit or a stream error)."""
    chat.rpc.provider_headers.update(provider_headers(request))
    peers = request.app[PEERS]
    metadata = call_metadata(request, rid)
    deadline = request.app[SETTINGS].generation_deadline_seconds
    calls: list[Cancellable] = []
    if chat.rpc.stream:
        streamed = _Streamed(peers, chat.rpc, metadata, deadline, calls)
        events = Events(streamed, streamed.received)
    else:
        events = Events(_answer(peers, chat.rpc, metadata, deadline, calls))
    try:
        yield await first_event(events), events
    finally:
        for call in calls:
            if not call.done():
                call.cancel()


class _Streamed:
    """A streaming generation's messages, opened at the first read: on a lane to the router
    (:mod:`tollgate_edge.lanes`), else (a router of an earlier release) one ``StreamGenerate``
    call; the same messages either way."""

    def __init__(
        self,
        peers: Peers,
        rpc: router_pb2.StreamGenerateRequest,
        metadata: Metadata,
        deadline: float,
        calls: list[Cancellable],
    ) -> None:
        self._peers, self._rpc, self._metadata, self._deadline = peers, rpc, metadata, deadline
        self._calls = calls
        self._messages: AsyncIterator[router_pb2.StreamGenerateResponse] | None = None
        self._lane: LaneStream | None = None

    def received(self) -> bool:
        """Whether a message has come that was not read yet (known on a lane only)."""
        return self._lane is not None and self._lane.received()

    def __aiter__(self) -> _Streamed:
        return self

    async def __anext__(self) -> router_pb2.StreamGenerateResponse:
        if self._messages is None:
            stream = await self._start()
            self._calls.append(stream)
            self._messages = aiter(stream)
        return await anext(self._messages)

    async def _start(self) -> _Stream:
        peers, rpc, metadata, deadline = self._peers, self._rpc, self._metadata, self._deadline
        lanes = peers.lanes
        if lanes is not None and lanes.streams_usable():
            try:
                self._lane = await lanes.stream(rpc, metadata, deadline)
                return self._lane
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                    raise
        call: _Stream = peers.generations.StreamGenerate(
            rpc, metadata=metadata + peers.generation_token, timeout=deadline
        )
        return call


async def _answer(
    peers: Peers,
    rpc: router_pb2.StreamGenerateRequest,
    metadata: Metadata,
    deadline: float,
    calls: list[Cancellable],
) -> AsyncIterator[router_pb2.StreamGenerateResponse]:
    """A generation read whole: one message on a lane to the router (:mod:`tollgate_edge.lanes`),
    else one unary ``Generate`` call; both cheaper for the edge and the router than a stream. A
    router of an earlier release (during a rolling upgrade) may have neither: then the ones it
    has, down to the stream, with the same events."""
    lanes = peers.lanes
    if lanes is not None and lanes.usable():
        try:
            yield await lanes.generate(rpc, metadata, deadline)
            return
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
    router = peers.generations
    metadata += peers.generation_token
    call = router.Generate(rpc, metadata=metadata, timeout=deadline)
    calls.append(call)
    try:
        yield await call
        return
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
            raise
    stream = router.StreamGenerate(rpc, metadata=metadata, timeout=deadline)
    calls.append(stream)
    async for message in stream:
        yield message


def generation_error(event: router_pb2.StreamGenerateResponse) -> ApiError:
    error = event.error
    return from_generation_error(error.reason, error.message, error.provider_status, error.code)


async def first_event(events: Events) -> router_pb2.GenerationStarted:
    try:
        event = await anext(events)
    except StopAsyncIteration:
        raise broken_stream() from None
    except grpc.aio.AioRpcError as exc:
        raise from_rpc(exc) from None
    kind = event.WhichOneof("event")
    if kind == "started":
        return event.started
    if kind == "error":
        raise generation_error(event)
    raise broken_stream()


async def _collect(
    chat: ChatRequest, started: router_pb2.GenerationStarted, model: str, events: Events
) -> web.Response:
    answer = Answer(reasoning=None if chat.exclude_reasoning else ReasoningDetails())
    usage: router_pb2.Usage | None = None
    finished: router_pb2.GenerationFinished | None = None
    try:
        async for event in events:
            kind = event.WhichOneof("event")
            if kind == "text_delta":
                answer.texts.append(event.text_delta.text)
            elif kind == "tool_call_delta":
                answer.tool_calls.add(event.tool_call_delta)
            elif kind == "image_delta":
                answer.images.append(image_entry(event.image_delta))
            elif kind == "reasoning_delta":
                if answer.reasoning is not None:
                    answer.reasoning.add(event.reasoning_delta)
            elif kind == "usage":
                usage = event.usage
            elif kind == "finished":
                finished = event.finished
            elif kind == "error":
                raise generation_error(event)
    except grpc.aio.AioRpcError as exc:
        raise from_rpc(exc) from None
    if finished is None:
        raise broken_stream()
    body = completion_body(started, model, answer, finished, usage)
    headers = replayed_headers(started.replayed) | served_headers(started.rate_limit)
    return web.Response(body=body, content_type=JSON, headers=headers)


async def _stream(
    request: web.Request,
    chat: ChatRequest,
    started: router_pb2.GenerationStarted,
    model: str,
    events: Events,
) -> web.StreamResponse:
    encoder = ChunkEncoder(started, model, chat.include_usage)
    body = SseBody(replayed_headers(started.replayed) | served_headers(started.rate_limit), events)
    try:
        await body.open(request, encoder.role())
        reasoning = None if chat.exclude_reasoning else ReasoningDetails()
        last: list[bytes] = []  # the finish chunk, written with the end of the stream
        try:
            usage, failure = await _relay(body, encoder, started, events, reasoning, last)
        except grpc.aio.AioRpcError as exc:
            usage, failure = None, from_rpc(exc)
        except ConnectionResetError:
            raise
        except Exception:
            # The status line has gone out: a bug here can only end the stream in-band.
            log.exception("relaying a generation failed")
            usage, failure = None, ApiError(500, "internal_server_error", "internal error")
        if failure is not None:
            tail = failure.sse_event() + DONE
        elif chat.include_usage:
            tail = encoder.usage(usage) + DONE
        else:
            tail = DONE
        # One write for the last events and the end of the chunked body.
        await body.end(b"".join(last) + tail)
    except ConnectionResetError:
        pass  # the client went away; the caller cancels the RPC
    return body.response


async def _relay(
    body: SseBody,
    encoder: ChunkEncoder,
    started: router_pb2.GenerationStarted,
    events: Events,
    reasoning: ReasoningDetails | None,
    last: list[bytes],
) -> tuple[router_pb2.Usage | None, ApiError | None]:
    """Send each delta as it arrives (reasoning only when ``reasoning`` collects it); returns
    the usage and the failure, if any. The finish chunk goes to ``last``: the router sends it
    with the usage, right before the stream ends, so it is written together with the tail."""
    usage: router_pb2.Usage | None = None
    finished = False
    async for event in events:
        kind = event.WhichOneof("event")
        data = b""
        if kind == "text_delta":
            data = encoder.text(event.text_delta.text)
        elif kind == "tool_call_delta":
            data = encoder.tool_call(event.tool_call_delta)
        elif kind == "image_delta":
            data = encoder.delta({"images": [image_entry(event.image_delta)]})
        elif kind == "reasoning_delta":
            if reasoning is not None:
                delta = event.reasoning_delta
                data = encoder.reasoning(delta.text, reasoning.add(delta))
        elif kind == "usage":
            usage = event.usage
            continue  # the end follows: what is held goes out with it
        elif kind == "finished":
            metadata = gateway_metadata(event.finished, started.generation_id)
            last.append(encoder.finish(event.finished.finish_reason, metadata))
            finished = True
            continue
        elif kind == "error":
            return usage, generation_error(event)
        await body.send(data)
    return usage, None if finished else broken_stream()
