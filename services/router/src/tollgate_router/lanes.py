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
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common import telemetry
from tollgate_common.context import REQUEST_ID_METADATA, request_id_var
from tollgate_common.interceptors import status_of
from tollgate_common.together import join_queued

log = logging.getLogger(__name__)

GENERATE = "/tollgate.router.v1.RouterService/Generate"
# What goes out: (id, the answer or the error); (0, None) says the stream is draining.
_Reply = tuple[int, pb.StreamGenerateResponse | pb.GenerationsError | None]
_DRAINING: _Reply = (0, None)

# ``answer(request, seconds left)``: what Generate answers, or a DomainError.
Answer = Callable[[pb.StreamGenerateRequest, float | None], Awaitable[pb.StreamGenerateResponse]]
# ``observe(status code name, seconds)``: the call metrics of one Generate.
Observe = Callable[[str, float], None]


def _no_metrics(code: str, seconds: float) -> None:
    return None


def _fill(message: pb.GenerationsResponse, reply: _Reply) -> None:
    message.id, result = reply
    if result is None:
        message.draining = True
    elif isinstance(result, pb.GenerationsError):
        message.error.CopyFrom(result)
    else:
        message.answer.CopyFrom(result)


def _size(reply: _Reply) -> int:
    return 0 if reply[1] is None else reply[1].ByteSize()


def failure(exc: BaseException) -> tuple[grpc.StatusCode, pb.GenerationsError]:
    """The status a Generate call would have failed with (the error interceptor's mapping)."""
    status = status_of(exc)
    details = b""
    for key, value in status.trailing_metadata or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            details = value
    error = pb.GenerationsError(code=status.code.value[0], message=status.details, details=details)
    return status.code, error


class Lanes:
    """Serves the Generations streams of one router process."""

    def __init__(self, answer: Answer, observe: Observe | None = None) -> None:
        self._answer = answer
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
        try:
            async for message in requests:
                for request in (message, *message.more):
                    task = asyncio.create_task(self._one(request, output.put_nowait))
                    running.add(task)
                    task.add_done_callback(running.discard)
            while running:
                await asyncio.wait(set(running))
        finally:
            output.put_nowait(None)

    async def _one(self, request: pb.GenerationsRequest, put: Callable[[_Reply], None]) -> None:
        started = time.perf_counter()
        metadata = request.metadata
        token = request_id_var.set(metadata.get(REQUEST_ID_METADATA, ""))
        seconds = request.timeout_ms / 1000 if request.timeout_ms else None
        try:
            with telemetry.rpc_span(GENERATE, "server", metadata):
                answer = await self._answer(request.request, seconds)
            reply: _Reply = (request.id, answer)
            code = grpc.StatusCode.OK
        except Exception as exc:
            code, error = failure(exc)
            reply = (request.id, error)
        finally:
            request_id_var.reset(token)
        put(reply)
        self._observe(code.name, time.perf_counter() - started)
