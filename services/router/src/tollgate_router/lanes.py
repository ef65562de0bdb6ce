"""The router's end of ``RouterService.Generations``: many ``Generate`` calls carried as messages
over one long-lived stream (docs/internal-contracts.md, "Generations").

A gRPC call costs the caller and the router several times what a message on an open stream
costs (on this project's machines a local unary call took ~250 µs of the caller's CPU and
~400 µs of the router's; a request and its answer on an open stream ~100 µs each), so the edge
sends its non-streaming generations this way. Each request runs as its own task, exactly as a
``Generate`` call would (the same answer, the same request id in the logs, the same trace, the
same status on failure, counted as ``Generate`` in the call metrics); answers go out in the
order they finish.

Draining: :meth:`Lanes.drain` (the server is stopping) tells every open stream ``draining``; the
caller sends nothing more on it and half-closes it, and the stream ends once the requests it
had sent are answered — within the server's grace, like any call in flight.

Several in one message (``more``): each message costs both sides about what the work of a
generation outside the provider call does, so requests (answers) that are ready together share
one — what is queued when the stream can write next, nothing waits for company
(:mod:`tollgate_common.together`). The router says it reads them in its initial metadata; it
sends answers together only to a caller that said the same in its call's metadata (an edge of
the release before reads one each).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

import grpc
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common import telemetry
from tollgate_common.context import REQUEST_ID_METADATA, request_id_var
from tollgate_common.interceptors import status_of
from tollgate_common.together import join_queued

log = logging.getLogger(__name__)

GENERATE = "Generate"
STREAM_GENERATE = "StreamGenerate"
_METHOD = "/tollgate.router.v1.RouterService/"
# What goes out: (id, the result's field, the result, whether a stream ends with it);
# (0, "draining", None, False) says the stream is draining.
_Result = pb.StreamGenerateResponse | pb.GenerationsError | None
_Reply = tuple[int, str, _Result, bool]
_DRAINING: _Reply = (0, "draining", None, False)
# A stream's end when its last message has gone out already: an empty batch.
_END = pb.StreamGenerateResponse(batch=pb.EventBatch())
# A stream's message after which only its end can come.
_LAST_EVENTS = frozenset({"finished", "error"})

# ``answer(request, seconds left)``: what Generate answers, or a DomainError.
Answer = Callable[[pb.StreamGenerateRequest, float | None], Awaitable[pb.StreamGenerateResponse]]
# ``stream(request, seconds left)``: StreamGenerate's messages; a DomainError before the first
# is the call's status.
Stream = Callable[
    [pb.StreamGenerateRequest, float | None], AsyncGenerator[pb.StreamGenerateResponse, None]
]
# ``observe(method, status code name, seconds)``: the call metrics of one carried call.
Observe = Callable[[str, str, float], None]


def _no_metrics(method: str, code: str, seconds: float) -> None:
    return None


def _fill(message: pb.GenerationsResponse, reply: _Reply) -> None:
    message.id, field, result, last = reply
    if result is None:
        message.draining = True
    else:
        getattr(message, field).CopyFrom(result)
        if last:
            message.last = True


def _size(reply: _Reply) -> int:
    return 0 if reply[2] is None else reply[2].ByteSize()


def _ends(message: pb.StreamGenerateResponse) -> bool:
    """Whether nothing but the stream's end follows ``message``."""
    kind = message.WhichOneof("event")
    if kind == "batch":
        events = message.batch.events
        return bool(events) and events[-1].WhichOneof("event") in _LAST_EVENTS
    return kind in _LAST_EVENTS


class _Window:
    """How many more events a stream may send: ``size`` ahead of what its caller has read
    (0: no limit)."""

    __slots__ = ("_allowed", "_credited", "_sent", "_unlimited")

    def __init__(self, size: int) -> None:
        self._unlimited = size == 0
        self._allowed = size
        self._sent = 0
        self._credited = asyncio.Event()

    def credit(self, count: int) -> None:
        self._allowed += count
        self._credited.set()

    async def take(self) -> None:
        """Wait until one more event may go out, and count it."""
        while not self._unlimited and self._sent >= self._allowed:
            self._credited.clear()
            await self._credited.wait()
        self._sent += 1


def failure(exc: BaseException) -> tuple[grpc.StatusCode, pb.GenerationsError]:
    """The status a Generate call would have failed with (the error interceptor's mapping)."""
    status = status_of(exc)
    details = b""
    for key, value in status.trailing_metadata or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            details = value
    error = pb.GenerationsError(code=status.code.value[0], message=status.details, details=details)
    return status.code, error


# The streams of one lane that are running: their task and window, by id.
_Streams = dict[int, tuple[asyncio.Task[None], _Window]]


def _forget(streams: _Streams, id_: int, task: asyncio.Task[None]) -> None:
    """A stream's task ended: forget it, unless its id was reused by a new stream since."""
    running = streams.get(id_)
    if running is not None and running[0] is task:
        del streams[id_]


class Lanes:
    """Serves the Generations streams of one router process."""

    def __init__(
        self, answer: Answer, stream: Stream | None = None, observe: Observe | None = None
    ) -> None:
        self._answer = answer
        self._stream = stream
        self._observe = observe if observe is not None else _no_metrics
        self._draining = False
        self._outputs: set[asyncio.Queue[_Reply | None]] = set()

    def drain(self) -> None:
        """Ask every caller to send no more requests (the server is stopping)."""
        self._draining = True
        for output in self._outputs:
            output.put_nowait(_DRAINING)

    async def serve(
        self, requests: AsyncIterator[pb.GenerationsRequest], together: bool = False
    ) -> AsyncIterator[pb.GenerationsResponse]:
        """The answers of one stream, as its requests finish (``together``: the caller reads
        several in one message); it ends once the caller has half-closed and every request it
        sent is answered."""
        output: asyncio.Queue[_Reply | None] = asyncio.Queue()
        running: set[asyncio.Task[None]] = set()
        self._outputs.add(output)
        if self._draining:
            output.put_nowait(_DRAINING)
        reader = asyncio.create_task(self._read(requests, output, running))
        held: _Reply | None = None  # taken from the queue, too large for the message before
        ended = False
        try:
            while not ended and (reply := held or await output.get()) is not None:
                message = pb.GenerationsResponse()
                _fill(message, reply)
                if together:
                    queued = join_queued(reply, output, _size)
                    for more in queued.items:
                        _fill(message.more.add(), more)
                    held, ended = queued.held, queued.ended
                yield message
        finally:
            self._outputs.discard(output)
            reader.cancel()
            for task in running:  # the caller is gone: as a cancelled Generate call
                task.cancel()

    async def _read(
        self,
        requests: AsyncIterator[pb.GenerationsRequest],
        output: asyncio.Queue[_Reply | None],
        running: set[asyncio.Task[None]],
    ) -> None:
        streams: _Streams = {}
        try:
            async for message in requests:
                for request in (message, *message.more):
                    if not request.HasField("request"):
                        self._control(request, streams)
                        continue
                    if request.request.stream and self._stream is not None:
                        window = _Window(request.window)
                        task = asyncio.create_task(
                            self._stream_one(self._stream, request, window, output.put_nowait)
                        )
                        streams[request.id] = (task, window)
                        task.add_done_callback(functools.partial(_forget, streams, request.id))
                    else:
                        task = asyncio.create_task(self._one(request, output.put_nowait))
                    running.add(task)
                    task.add_done_callback(running.discard)
            while running:
                await asyncio.wait(set(running))
        finally:
            output.put_nowait(None)

    @staticmethod
    def _control(request: pb.GenerationsRequest, streams: _Streams) -> None:
        """A message about a stream sent before: more credit, or its caller went away (a stream
        that has ended already is not there)."""
        running = streams.get(request.id)
        if running is None:
            return
        task, window = running
        if request.cancel:
            task.cancel()
        elif request.credit:
            window.credit(request.credit)

    async def _one(self, request: pb.GenerationsRequest, put: Callable[[_Reply], None]) -> None:
        started = time.perf_counter()
        metadata = request.metadata
        token = request_id_var.set(metadata.get(REQUEST_ID_METADATA, ""))
        seconds = request.timeout_ms / 1000 if request.timeout_ms else None
        try:
            with telemetry.rpc_span(_METHOD + GENERATE, "server", metadata):
                answer = await self._answer(request.request, seconds)
            reply: _Reply = (request.id, "answer", answer, False)
            code = grpc.StatusCode.OK
        except Exception as exc:
            code, error = failure(exc)
            reply = (request.id, "error", error, True)
        finally:
            request_id_var.reset(token)
        put(reply)
        self._observe(GENERATE, code.name, time.perf_counter() - started)

    async def _stream_one(
        self,
        stream: Stream,
        request: pb.GenerationsRequest,
        window: _Window,
        put: Callable[[_Reply], None],
    ) -> None:
        """One streaming request: its messages as they come, each within the window; the one
        after which only the end can come is held until the end, to carry ``last``."""
        started = time.perf_counter()
        metadata, id_ = request.metadata, request.id
        token = request_id_var.set(metadata.get(REQUEST_ID_METADATA, ""))
        seconds = request.timeout_ms / 1000 if request.timeout_ms else None
        code = grpc.StatusCode.CANCELLED
        try:
            with telemetry.rpc_span(_METHOD + STREAM_GENERATE, "server", metadata):
                held: pb.StreamGenerateResponse | None = None
                async with contextlib.aclosing(stream(request.request, seconds)) as messages:
                    async for message in messages:
                        if held is not None:
                            await window.take()
                            put((id_, "event", held, False))
                            held = None
                        if _ends(message):
                            held = message
                        else:
                            await window.take()
                            put((id_, "event", message, False))
                await window.take()
                put((id_, "event", _END if held is None else held, True))
            code = grpc.StatusCode.OK
        except asyncio.CancelledError:
            raise  # its caller cancelled it, or the lane ended: nobody reads what it would say
        except Exception as exc:
            code, error = failure(exc)
            put((id_, "error", error, True))
        finally:
            request_id_var.reset(token)
            self._observe(STREAM_GENERATE, code.name, time.perf_counter() - started)
