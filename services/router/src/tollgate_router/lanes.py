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

log = logging.getLogger(__name__)

GENERATE = "/tollgate.router.v1.RouterService/Generate"
_DRAINING = pb.GenerationsResponse(id=0, draining=True)

# ``answer(request, seconds left)``: what Generate answers, or a DomainError.
Answer = Callable[[pb.StreamGenerateRequest, float | None], Awaitable[pb.StreamGenerateResponse]]
# ``observe(status code name, seconds)``: the call metrics of one Generate.
Observe = Callable[[str, float], None]


def _no_metrics(code: str, seconds: float) -> None:
    return None


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
        self._outputs: set[asyncio.Queue[pb.GenerationsResponse | None]] = set()

    def drain(self) -> None:
        """Ask every caller to send no more requests (the server is stopping)."""
        self._draining = True
        for output in self._outputs:
            output.put_nowait(_DRAINING)

    async def serve(
        self, requests: AsyncIterator[pb.GenerationsRequest]
    ) -> AsyncIterator[pb.GenerationsResponse]:
        """The answers of one stream, as its requests finish; it ends once the caller has
        half-closed and every request it sent is answered."""
        output: asyncio.Queue[pb.GenerationsResponse | None] = asyncio.Queue()
        running: set[asyncio.Task[None]] = set()
        self._outputs.add(output)
        if self._draining:
            output.put_nowait(_DRAINING)
        reader = asyncio.create_task(self._read(requests, output, running))
        try:
            while (message := await output.get()) is not None:
                yield message
        finally:
            self._outputs.discard(output)
            reader.cancel()
            for task in running:  # the caller is gone: as a cancelled Generate call
                task.cancel()

    async def _read(
        self,
        requests: AsyncIterator[pb.GenerationsRequest],
        output: asyncio.Queue[pb.GenerationsResponse | None],
        running: set[asyncio.Task[None]],
    ) -> None:
        try:
            async for request in requests:
                task = asyncio.create_task(self._one(request, output.put_nowait))
                running.add(task)
                task.add_done_callback(running.discard)
            while running:
                await asyncio.wait(set(running))
        finally:
            output.put_nowait(None)

    async def _one(
        self, request: pb.GenerationsRequest, put: Callable[[pb.GenerationsResponse], None]
    ) -> None:
        started = time.perf_counter()
        metadata = dict(request.metadata)
        token = request_id_var.set(metadata.get(REQUEST_ID_METADATA, ""))
        seconds = request.timeout_ms / 1000 if request.timeout_ms else None
        try:
            with telemetry.rpc_span(GENERATE, "server", metadata):
                answer = await self._answer(request.request, seconds)
            reply, code = pb.GenerationsResponse(id=request.id, answer=answer), grpc.StatusCode.OK
        except Exception as exc:
            code, error = failure(exc)
            reply = pb.GenerationsResponse(id=request.id, error=error)
        finally:
            request_id_var.reset(token)
        put(reply)
        self._observe(code.name, time.perf_counter() - started)
