"""The edge's end of ``RouterService.Generations``: non-streaming generations sent as messages
over a few long-lived streams ("lanes") to the router, instead of one ``Generate`` call each
(docs/internal-contracts.md, "Generations").

:meth:`GenerationLanes.generate` behaves as a ``Generate`` call: the same answer, and on failure
the same :class:`grpc.aio.AioRpcError` (status, message, ErrorInfo), so the edge's one error map
reads it as it reads any call's. A lane that breaks (the router restarted or died) fails the
requests waiting on it as a broken call would (``UNAVAILABLE``), and the next request opens a
new one. A lane is retired (half-closed once its answers are in) when the router says it is
draining, and after ``max_age_seconds``, so that lanes spread over router replicas that came up
since. A router without ``Generations`` (an earlier release, during a rolling upgrade) answers
``UNIMPLEMENTED``: the caller then uses ``Generate`` for a while (:meth:`usable`).

Requests queued together go out in one message (``more``) to a router that says it reads them
in its initial metadata (:mod:`tollgate_common.together`): a message costs the edge and the
router about as much as the rest of a generation's handling, and under load several are ready
each time the stream can write. Nothing waits for company.

Streaming generations go the same way to a router that says it serves them
(:meth:`GenerationLanes.stream`): a :class:`LaneStream` reads as a ``StreamGenerate`` call does
(the same messages, the same error on failure) and is cancelled like one. Its events come back
within a window the edge widens as its handler reads them (``credit``, half a window at a time),
so one slow client holds back its own generation, not the lane. A retired lane half-closes only
once its streams have ended: until then it must still be able to send their credit and cancels.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common import telemetry
from tollgate_common.errors import status_code
from tollgate_common.together import MORE, join_queued, says_more, says_streams

if TYPE_CHECKING:
    from tollgate.router.v1.router_pb2_grpc import RouterServiceAsyncStub

Metadata = tuple[tuple[str, str], ...]

GENERATE = "/tollgate.router.v1.RouterService/Generate"
STREAM_GENERATE = "/tollgate.router.v1.RouterService/StreamGenerate"
_DETAILS = "grpc-status-details-bin"
# How long a router that does not know Generations is sent Generate calls before lanes are
# tried again.
_UNSUPPORTED_SECONDS = 60.0
_MAX_TIMEOUT_MS = 2**32 - 1  # GenerationsRequest.timeout_ms is a uint32 (49 days)
# How long a new lane waits for the router to accept its stream before it writes anyway.
_ACCEPT_SECONDS = 0.5
# How many events of a stream the router may send ahead of the edge's handler; the edge grants
# more half a window at a time, so a stream shorter than that costs no credit message.
STREAM_WINDOW = 64
# How many lanes a stream tries when the one chosen closes while it waits for it to be accepted.
_STREAM_LANE_TRIES = 3


@dataclass(frozen=True, slots=True)
class _Request:
    """A generation waiting to go out: the fields of its GenerationsRequest."""

    id: int
    rpc: pb.StreamGenerateRequest
    metadata: dict[str, str]
    timeout_ms: int
    window: int = 0

    def size(self) -> int:
        return self.rpc.ByteSize()

    def add_to(self, message: pb.GenerationsRequest) -> None:
        message.id, message.timeout_ms = self.id, self.timeout_ms
        message.request.CopyFrom(self.rpc)
        message.metadata.update(self.metadata)
        if self.window:
            message.window = self.window


@dataclass(frozen=True, slots=True)
class _Control:
    """A message about a stream sent before: ``credit`` more events read, or ``cancel``."""

    id: int
    credit: int = 0
    cancel: bool = False

    def size(self) -> int:
        return 16

    def add_to(self, message: pb.GenerationsRequest) -> None:
        message.id = self.id
        if self.cancel:
            message.cancel = True
        else:
            message.credit = self.credit


_Outgoing = _Request | _Control


def _size(item: _Outgoing) -> int:
    return item.size()


def rpc_error(code: grpc.StatusCode, message: str, details: bytes = b"") -> grpc.aio.AioRpcError:
    """The error a call that ended with this status raises."""
    trailing = grpc.aio.Metadata((_DETAILS, details)) if details else grpc.aio.Metadata()
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details=message)


def _expire(answer: asyncio.Future[pb.GenerationsResponse]) -> None:
    """A request's deadline passed before its answer came: it fails as a call would."""
    if not answer.done():
        answer.set_exception(rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))


class _Lane:
    """One Generations stream: requests go out through a queue (gRPC sends one message at a
    time), a reader task hands each answer to the request of its id."""

    def __init__(self, stub: RouterServiceAsyncStub, metadata: Metadata) -> None:
        self.born = time.monotonic()
        self.open = True  # takes new requests
        self._outgoing: asyncio.Queue[_Outgoing | None] = asyncio.Queue()
        self._waiting: dict[int, asyncio.Future[pb.GenerationsResponse]] = {}
        self._streams: dict[int, LaneStream] = {}
        self._half_closed = False
        self._error: grpc.aio.AioRpcError | None = None  # how the stream ended
        # Whether the router serves streams here: known once it accepted the stream.
        self._serves_streams: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._call = stub.Generations(self._requests(), metadata=(*metadata, MORE))
        # Done once the stream ended and every request left waiting was failed.
        self.ended = asyncio.create_task(self._read(), name="generation-lane")

    async def serves_streams(self) -> bool:
        """Whether the router said it serves streaming requests on this lane (False for one of
        an earlier release); waits until it accepted the stream."""
        return await asyncio.shield(self._serves_streams)

    async def refusal(self) -> grpc.aio.AioRpcError | None:
        """How the lane ended, if it ended before it was accepted (None while it runs)."""
        if not self._call.done():
            return None
        await asyncio.gather(self.ended, return_exceptions=True)
        return self._error

    async def _requests(self) -> AsyncIterator[pb.GenerationsRequest]:
        # Nothing is written before the router accepted the stream (its initial metadata, sent
        # at once since this release; a router of the release before waits for its first
        # answer to send it, so after a moment the lane writes anyway). A router without
        # Generations ends the call at once with UNIMPLEMENTED, and a write racing that end
        # would fail it as INTERNAL instead: the request would get a 500, not a fallback.
        together = streams = False
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_ACCEPT_SECONDS):
                    accepted = await self._call.initial_metadata()
                    together, streams = says_more(accepted), says_streams(accepted)
        finally:
            if not self._serves_streams.done():
                self._serves_streams.set_result(streams)
        if self._call.done():
            return
        held: _Outgoing | None = None  # taken from the queue, too large for the message before
        ended = False
        while not ended and (request := held or await self._outgoing.get()) is not None:
            message = pb.GenerationsRequest()
            request.add_to(message)
            if together:
                queued = join_queued(request, self._outgoing, _size)
                for more in queued.items:
                    more.add_to(message.more.add())
                held, ended = queued.held, queued.ended
            yield message

    def send(self, request: _Request) -> asyncio.Future[pb.GenerationsResponse]:
        answer = asyncio.get_running_loop().create_future()
        self._waiting[request.id] = answer
        self._outgoing.put_nowait(request)
        return answer

    def send_stream(self, request: _Request, stream: LaneStream) -> None:
        if not self.open:  # it ended or was retired since it was chosen: as a broken call
            stream.fail(self._error or rpc_error(grpc.StatusCode.UNAVAILABLE, "lane closed"))
            return
        self._streams[request.id] = stream
        self._outgoing.put_nowait(request)

    def control(self, control: _Control) -> None:
        """Credit for, or the cancel of, a stream sent before."""
        if not self._half_closed:
            self._outgoing.put_nowait(control)

    def stream_ended(self, request_id: int) -> None:
        """The stream of that id ended (read to its end, failed, or cancelled)."""
        self._streams.pop(request_id, None)
        self._half_close_when_done()

    def forget(self, request_id: int) -> None:
        """The request's caller stopped waiting (its client went away, its deadline passed);
        the router finishes the generation anyway, as it does a Generate whose caller left."""
        self._waiting.pop(request_id, None)

    def retire(self) -> None:
        """No new requests: half-close once those sent are answered and its streams have ended
        (the router then ends the stream)."""
        if self.open:
            self.open = False
            self._half_close_when_done()

    def _half_close_when_done(self) -> None:
        if not self.open and not self._streams and not self._half_closed:
            self._half_closed = True
            self._outgoing.put_nowait(None)

    async def close(self) -> None:
        self.retire()
        self._call.cancel()
        await asyncio.gather(self.ended, return_exceptions=True)

    async def _read(self) -> None:
        error = rpc_error(grpc.StatusCode.UNAVAILABLE, "the router ended the generation stream")
        try:
            async for message in self._call:
                for reply in (message, *message.more):
                    if reply.WhichOneof("result") == "draining":
                        self.retire()
                        continue
                    stream = self._streams.get(reply.id)
                    if stream is not None:
                        stream.put(reply)
                        continue
                    answer = self._waiting.pop(reply.id, None)
                    if answer is not None and not answer.done():
                        answer.set_result(reply)
        except grpc.aio.AioRpcError as exc:
            error = exc
        except asyncio.CancelledError:
            error = rpc_error(grpc.StatusCode.CANCELLED, "the generation stream was closed")
            raise
        finally:
            self.open = False
            self._half_closed = True
            self._error = error
            if not self._serves_streams.done():
                self._serves_streams.set_result(False)
            waiting, self._waiting = self._waiting, {}
            for answer in waiting.values():
                if not answer.done():
                    answer.set_exception(error)
            streams, self._streams = self._streams, {}
            for stream in streams.values():
                stream.fail(error)


class LaneStream:
    """A streaming generation on a lane, read as a ``StreamGenerate`` call is: its messages in
    order, then the end; a failure is the :class:`grpc.aio.AioRpcError` the call would raise.
    :meth:`cancel` tells the router that nobody reads it any more."""

    def __init__(
        self, lane: _Lane, request: _Request, deadline: float, end_span: Callable[[], None]
    ) -> None:
        self._lane = lane
        self._id = request.id
        self._window = request.window
        self._unacknowledged = 0  # read since the last credit
        self._replies: asyncio.Queue[pb.GenerationsResponse | grpc.aio.AioRpcError] = (
            asyncio.Queue()
        )
        self._ended = False  # read to its end, failed or cancelled: nothing more to read
        self._detached = False  # the lane hands it nothing more
        self._end_span = end_span
        # One timer for the whole stream, as a call's deadline: not one per message read.
        self._timer = asyncio.get_running_loop().call_later(deadline, self._expire)

    def put(self, reply: pb.GenerationsResponse) -> None:
        """A reply of this stream, from the lane's reader."""
        if reply.last or reply.WhichOneof("result") != "event":
            self._detach()  # nothing more of it will come
        self._replies.put_nowait(reply)

    def fail(self, error: grpc.aio.AioRpcError) -> None:
        """The lane ended (or was closed) before the stream did."""
        self._detached = True
        self._replies.put_nowait(error)

    def done(self) -> bool:
        return self._ended

    def received(self) -> bool:
        """Whether a reply has come that was not read yet: the next read does not wait."""
        return not self._ended and not self._replies.empty()

    def cancel(self) -> bool:
        """Stop reading: the router cancels the generation (as a cancelled call's)."""
        if self._ended:
            return False
        self._end()
        self._leave()
        return True

    def _leave(self) -> None:
        """Tell the router that nobody reads the stream, unless it has ended there."""
        if not self._detached:
            self._lane.control(_Control(self._id, cancel=True))
            self._detach()

    def _detach(self) -> None:
        self._detached = True
        self._lane.stream_ended(self._id)

    def _expire(self) -> None:
        """The deadline passed: the router stops the generation, the reader gets
        ``DEADLINE_EXCEEDED`` after what had come."""
        self._leave()
        self._replies.put_nowait(rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))

    def _end(self) -> None:
        self._ended = True
        self._timer.cancel()
        self._end_span()

    def __aiter__(self) -> LaneStream:
        return self

    async def __anext__(self) -> pb.StreamGenerateResponse:
        if self._ended:
            raise StopAsyncIteration
        reply = await self._replies.get()
        if isinstance(reply, grpc.aio.AioRpcError):
            self._end()
            raise reply
        kind = reply.WhichOneof("result")
        if kind == "error":
            self._end()
            error = reply.error
            raise rpc_error(status_code(error.code), error.message, error.details)
        if kind != "event":
            self.cancel()
            raise rpc_error(grpc.StatusCode.INTERNAL, f"unexpected {kind} on a stream")
        if reply.last:
            self._end()
        elif self._window:
            self._unacknowledged += 1
            if self._unacknowledged * 2 >= self._window:
                self._lane.control(_Control(self._id, credit=self._unacknowledged))
                self._unacknowledged = 0
        return reply.event


class GenerationLanes:
    """``count`` lanes to the router, used in turn; ``metadata`` goes with each lane's opening
    (the edge's internal token)."""

    def __init__(
        self,
        stub: RouterServiceAsyncStub,
        metadata: Metadata,
        count: int,
        max_age_seconds: float = 60.0,
    ) -> None:
        self._stub = stub
        self._metadata = metadata
        self._lanes: list[_Lane | None] = [None] * count
        self._max_age = max_age_seconds
        self._turn = itertools.cycle(range(count))
        self._ids = itertools.count(1)
        self._unsupported_until = 0.0
        self._streams_unsupported_until = 0.0
        self._retired: set[_Lane] = set()

    def usable(self) -> bool:
        """False while the router is known not to serve Generations."""
        return bool(self._lanes) and time.monotonic() >= self._unsupported_until

    def streams_usable(self) -> bool:
        """False while the router is known not to serve streams on them."""
        return self.usable() and time.monotonic() >= self._streams_unsupported_until

    async def stream(
        self, rpc: pb.StreamGenerateRequest, metadata: Metadata, deadline: float
    ) -> LaneStream:
        """What ``StreamGenerate(rpc, metadata=metadata, timeout=deadline)`` would return; a
        router that does not serve streams on lanes raises ``UNIMPLEMENTED`` at once."""
        lane = self._lane()
        for _ in range(_STREAM_LANE_TRIES):
            # The wait below may outlast the lane (retired or broken meanwhile): then a new one.
            if not await lane.serves_streams() or lane.open:
                break
            lane = self._lane()
        if not await lane.serves_streams():
            refusal = await lane.refusal()
            if refusal is not None:  # the router refused the lane itself, or is gone
                if refusal.code() == grpc.StatusCode.UNIMPLEMENTED:
                    self._unsupported_until = time.monotonic() + _UNSUPPORTED_SECONDS
                raise refusal
            self._streams_unsupported_until = time.monotonic() + _UNSUPPORTED_SECONDS
            raise rpc_error(grpc.StatusCode.UNIMPLEMENTED, "no streams on generation lanes")
        carrier = dict(metadata)
        end_span = telemetry.start_rpc_span(STREAM_GENERATE, carrier)
        timeout_ms = min(max(1, int(deadline * 1000)), _MAX_TIMEOUT_MS)
        request = _Request(next(self._ids), rpc, carrier, timeout_ms, STREAM_WINDOW)
        stream = LaneStream(lane, request, deadline, end_span)
        lane.send_stream(request, stream)
        return stream

    async def generate(
        self, rpc: pb.StreamGenerateRequest, metadata: Metadata, deadline: float
    ) -> pb.StreamGenerateResponse:
        """What ``Generate(rpc, metadata=metadata, timeout=deadline)`` would return, or the
        :class:`grpc.aio.AioRpcError` it would raise."""
        carrier = dict(metadata)
        with telemetry.rpc_span(GENERATE, "client", carrier):
            request = _Request(
                next(self._ids), rpc, carrier, min(max(1, int(deadline * 1000)), _MAX_TIMEOUT_MS)
            )
            lane = self._lane()
            answer = lane.send(request)
            # One timer that fails the answer at the deadline (an asyncio.timeout would be a
            # context object and a cancellation to undo per request).
            timer = asyncio.get_running_loop().call_later(deadline, _expire, answer)
            try:
                reply = await answer
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.UNIMPLEMENTED:
                    self._unsupported_until = time.monotonic() + _UNSUPPORTED_SECONDS
                raise
            finally:
                timer.cancel()
                lane.forget(request.id)
        if reply.WhichOneof("result") == "answer":
            return reply.answer
        error = reply.error
        raise rpc_error(status_code(error.code), error.message, error.details)

    def _lane(self) -> _Lane:
        slot = next(self._turn)
        lane = self._lanes[slot]
        if lane is not None and lane.open and time.monotonic() - lane.born > self._max_age:
            lane.retire()
        if lane is None or not lane.open:
            if lane is not None:
                self._retire(lane)
            # Opened outside the request that happens to need it: the stream outlives it, so
            # it must not join its trace nor carry its request id.
            lane = contextvars.Context().run(_Lane, self._stub, self._metadata)
            self._lanes[slot] = lane
        return lane

    def _retire(self, lane: _Lane) -> None:
        """Keep a retired lane until its stream ended (its last answers are read)."""
        self._retired.add(lane)
        lane.retire()
        lane.ended.add_done_callback(lambda _: self._retired.discard(lane))

    async def close(self) -> None:
        lanes = [lane for lane in (*self._lanes, *self._retired) if lane is not None]
        self._lanes = [None] * len(self._lanes)
        await asyncio.gather(*(lane.close() for lane in lanes))
