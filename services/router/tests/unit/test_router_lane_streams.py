"""The router's Generations lanes, streaming requests: a stream's messages come back as `event`
replies of its id as they are produced, within the window its caller grants, until one that says
it is the last (or an error); a cancelled one is closed and says nothing more."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry import trace
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common.context import request_id_var
from tollgate_common.testing import recorded_spans
from tollgate_router.errors import ModelNotFound
from tollgate_router.lanes import Lanes


class _Caller:
    """One caller on a lane: writes from a queue as the edge does (until it half-closes) and
    reads one reply at a time (each one a message carries in ``more`` counts)."""

    def __init__(self, lanes: Lanes, together: bool = False) -> None:
        self._outgoing: asyncio.Queue[pb.GenerationsRequest | None] = asyncio.Queue()
        self._replies = lanes.serve(self._requests(), together)
        self._unread: list[pb.GenerationsResponse] = []

    async def __aenter__(self) -> _Caller:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._replies.aclose()  # as a caller that went away, if the test did not finish

    async def _requests(self) -> AsyncIterator[pb.GenerationsRequest]:
        while (message := await self._outgoing.get()) is not None:
            yield message

    def send(self, message: pb.GenerationsRequest, *more: pb.GenerationsRequest) -> None:
        message.more.extend(more)
        self._outgoing.put_nowait(message)

    def _take(self, message: pb.GenerationsResponse) -> None:
        for reply in (message, *message.more):
            alone = pb.GenerationsResponse()
            alone.CopyFrom(reply)
            del alone.more[:]
            self._unread.append(alone)

    async def read(self) -> pb.GenerationsResponse:
        if not self._unread:
            async with asyncio.timeout(5):
                self._take(await anext(self._replies))
        return self._unread.pop(0)

    async def rest(self) -> list[pb.GenerationsResponse]:
        """Half-close, and read what still comes until the lane ends."""
        self._outgoing.put_nowait(None)
        async with asyncio.timeout(5):
            async for message in self._replies:
                self._take(message)
        rest, self._unread = self._unread, []
        return rest


def _request(id_: int, text: str = "") -> pb.GenerationsRequest:
    """A non-streaming request."""
    return pb.GenerationsRequest(id=id_, request=pb.StreamGenerateRequest(model=text or "m"))


def _streaming(id_: int, window: int = 0, timeout_ms: int = 0) -> pb.GenerationsRequest:
    request = pb.StreamGenerateRequest(model="m", stream=True)
    return pb.GenerationsRequest(id=id_, request=request, window=window, timeout_ms=timeout_ms)


def _credit(id_: int, count: int) -> pb.GenerationsRequest:
    return pb.GenerationsRequest(id=id_, credit=count)


def _cancel(id_: int) -> pb.GenerationsRequest:
    return pb.GenerationsRequest(id=id_, cancel=True)


def _delta(text: str) -> pb.StreamGenerateResponse:
    return pb.StreamGenerateResponse(text_delta=pb.TextDelta(text=text))


def _finished() -> pb.StreamGenerateResponse:
    return pb.StreamGenerateResponse(finished=pb.GenerationFinished(finish_reason="stop"))


def _texts(replies: list[pb.GenerationsResponse]) -> list[str]:
    return [reply.event.text_delta.text for reply in replies]


async def _answer(
    request: pb.StreamGenerateRequest, seconds: float | None
) -> pb.StreamGenerateResponse:
    """A non-streaming generation: one batch saying which model answered."""
    return pb.StreamGenerateResponse(batch=pb.EventBatch(events=[_delta(f"whole {request.model}")]))


async def _settle() -> None:
    """Let every task that can run, run (nothing here waits on time)."""
    for _ in range(50):
        await asyncio.sleep(0)


async def _until(done: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not done():
            await asyncio.sleep(0)


@pytest.mark.parametrize("together", [False, True], ids=["one-by-one", "together"])
async def test_a_streams_events_arrive_as_they_are_produced_and_the_finished_one_is_last(
    together: bool,
) -> None:
    first_read = asyncio.Event()

    async def stream(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        yield _delta("Hel")
        await first_read.wait()  # the caller has it before the rest is produced
        yield _delta("lo")
        yield _finished()

    async with _Caller(Lanes(_answer, stream), together) as caller:
        caller.send(_streaming(7))
        first = await caller.read()
        assert (first.id, first.WhichOneof("result"), first.last) == (7, "event", False)
        assert first.event.text_delta.text == "Hel"
        first_read.set()

        second, third = await caller.read(), await caller.read()
        assert [r.id for r in (second, third)] == [7, 7]
        assert [r.WhichOneof("result") for r in (second, third)] == ["event", "event"]
        assert second.event.text_delta.text == "lo" and not second.last
        assert third.event.finished.finish_reason == "stop" and third.last
        assert await caller.rest() == []  # nothing after the last


@pytest.mark.parametrize(
    "ending",
    [
        _finished(),
        pb.StreamGenerateResponse(error=pb.GenerationError(message="provider failed")),
        pb.StreamGenerateResponse(
            batch=pb.EventBatch(
                events=[pb.StreamGenerateResponse(usage=pb.Usage(total_tokens=3)), _finished()]
            )
        ),
    ],
    ids=["finished", "error-event", "usage-and-finished-batch"],
)
async def test_the_message_a_stream_ends_with_carries_last(
    ending: pb.StreamGenerateResponse,
) -> None:
    async def stream(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        yield _delta("a")
        yield ending

    async with _Caller(Lanes(_answer, stream)) as caller:
        caller.send(_streaming(1))
        replies = [await caller.read(), await caller.read()]
        assert [(r.event, r.last) for r in replies] == [(_delta("a"), False), (ending, True)]
        assert await caller.rest() == []


@pytest.mark.parametrize("said", [[], ["a", "b"]], ids=["nothing", "deltas"])
async def test_a_stream_that_ends_without_finishing_ends_with_an_empty_last_event(
    said: list[str],
) -> None:
    async def stream(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        for text in said:
            yield _delta(text)

    async with _Caller(Lanes(_answer, stream)) as caller:
        caller.send(_streaming(1))
        replies = [await caller.read() for _ in range(len(said) + 1)]
        assert await caller.rest() == []

    assert _texts(replies[:-1]) == said and not any(r.last for r in replies[:-1])
    end = replies[-1]
    assert (end.id, end.WhichOneof("result"), end.last) == (1, "event", True)
    assert end.event.WhichOneof("event") == "batch" and len(end.event.batch.events) == 0


def _error_info(error: pb.GenerationsError) -> error_details_pb2.ErrorInfo:
    [detail] = status_pb2.Status.FromString(error.details).details
    info = error_details_pb2.ErrorInfo()
    assert detail.Unpack(info)
    return info


async def test_a_stream_that_fails_before_its_first_event_gets_its_status_as_one_error() -> None:
    async def stream(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        raise ModelNotFound("nope/none")
        yield _delta("never")  # an async generator all the same

    async with _Caller(Lanes(_answer, stream)) as caller:
        caller.send(_streaming(3))
        error = await caller.read()
        assert await caller.rest() == []  # no event, before or after

    assert (error.id, error.WhichOneof("result")) == (3, "error")
    assert error.error.code == grpc.StatusCode.NOT_FOUND.value[0]
    assert error.error.message == "model 'nope/none' not found"
    assert _error_info(error.error).reason == "MODEL_NOT_FOUND"


async def test_a_stream_that_fails_after_events_ends_with_the_status_its_call_would_have() -> None:
    async def stream(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        yield _delta("a")
        raise RuntimeError("a bug")

    async with _Caller(Lanes(_answer, stream)) as caller:
        caller.send(_streaming(1))
        event, error = await caller.read(), await caller.read()
        assert await caller.rest() == []

    assert (event.WhichOneof("result"), event.event.text_delta.text, event.last) == (
        "event",
        "a",
        False,
    )
    assert (error.id, error.WhichOneof("result")) == (1, "error")
    assert error.error.code == grpc.StatusCode.INTERNAL.value[0]
    assert "a bug" not in error.error.message  # an unexpected error is not shown as it is


async def test_a_slow_reader_holds_its_stream_back_within_the_window_it_grants() -> None:
    produced: list[str] = []

    async def stream(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        for n in range(6):
            produced.append(str(n))
            yield _delta(str(n))
        produced.append("finished")
        yield _finished()

    async with _Caller(Lanes(_answer, stream)) as caller:
        caller.send(_streaming(1, window=2))
        received = [await caller.read(), await caller.read()]
        while not received[-1].last:
            waiting = asyncio.create_task(caller.read())
            await _settle()
            assert not waiting.done(), "an event beyond the window went out"
            # The generation waits too: at most the next message is made, not sent.
            assert len(produced) <= len(received) + 1
            caller.send(_credit(1, 2))
            received.append(await waiting)
            if not received[-1].last:
                received.append(await caller.read())
        assert await caller.rest() == []

    assert _texts(received[:-1]) == ["0", "1", "2", "3", "4", "5"]
    assert received[-1].event == _finished()
    assert [r.last for r in received] == [False] * 6 + [True]


async def test_a_stream_without_a_window_is_sent_as_fast_as_it_is_produced() -> None:
    async def stream(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        for n in range(6):
            yield _delta(str(n))
        yield _finished()

    async with _Caller(Lanes(_answer, stream)) as caller:
        caller.send(_streaming(1, window=0))
        received = [await caller.read() for _ in range(7)]  # no credit sent
        assert await caller.rest() == []
    assert _texts(received[:-1]) == ["0", "1", "2", "3", "4", "5"] and received[-1].last


@pytest.mark.parametrize("window", [0, 1], ids=["while-it-waits", "while-its-window-holds-it"])
async def test_a_cancelled_stream_is_closed_says_nothing_more_and_the_lane_goes_on(
    window: int,
) -> None:
    never = asyncio.Event()
    closed: list[type[BaseException]] = []
    produced: list[int] = []

    async def stream(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        try:
            for n in range(100):
                produced.append(n)
                yield _delta(str(n))
                if not window:
                    await never.wait()  # the provider is slow
        except BaseException as exc:
            closed.append(type(exc))
            raise

    async with _Caller(Lanes(_answer, stream)) as caller:
        caller.send(_streaming(1, window=window))
        first = await caller.read()
        assert (first.id, first.event.text_delta.text) == (1, "0")
        caller.send(_cancel(1))
        await _until(lambda: bool(closed))
        assert closed[0] in (asyncio.CancelledError, GeneratorExit)

        caller.send(_request(2, "after"))
        answered = await caller.read()
        assert (answered.id, answered.WhichOneof("result")) == (2, "answer")
        assert answered.answer.batch.events[0].text_delta.text == "whole after"
        caller.send(_credit(1, 10))  # about a stream that is gone: nothing happens
        assert await caller.rest() == []  # nothing more of the cancelled stream; the lane ends
    assert len(produced) <= 2 and len(closed) == 1


async def test_each_carried_call_is_counted_with_its_method_and_status() -> None:
    calls: list[tuple[str, str, float]] = []
    never = asyncio.Event()

    async def stream(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        if request.model == "missing":
            raise ModelNotFound(request.model)
        yield _delta("a")
        if request.model == "slow":
            await never.wait()
        yield _finished()

    def observe(method: str, code: str, seconds: float) -> None:
        calls.append((method, code, seconds))

    slow = _streaming(3)
    slow.request.model = "slow"
    missing = _streaming(2)
    missing.request.model = "missing"
    async with _Caller(Lanes(_answer, stream, observe)) as caller:
        caller.send(slow)
        assert (await caller.read()).id == 3
        caller.send(_cancel(3))
        await _until(lambda: len(calls) == 1)
        caller.send(_streaming(1), missing, _request(4))
        replies = [await caller.read() for _ in range(4)]  # 1: two events, 2: error, 4: answer
        assert await caller.rest() == []

    assert sorted((r.id, r.WhichOneof("result")) for r in replies) == [
        (1, "event"),
        (1, "event"),
        (2, "error"),
        (4, "answer"),
    ]
    assert sorted((method, code) for method, code, _ in calls) == [
        ("Generate", "OK"),
        ("StreamGenerate", "CANCELLED"),
        ("StreamGenerate", "NOT_FOUND"),
        ("StreamGenerate", "OK"),
    ]
    assert all(isinstance(seconds, float) and seconds >= 0 for _, _, seconds in calls)


async def test_streaming_and_non_streaming_requests_share_a_lane() -> None:
    async def stream(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        yield _delta("streamed")
        yield _finished()

    async with _Caller(Lanes(_answer, stream), together=True) as caller:
        caller.send(_streaming(1), _request(2, "plain"))  # in one message
        replies = [await caller.read() for _ in range(3)]
        assert await caller.rest() == []

    by_id = {
        id_: [r for r in replies if r.id == id_]
        for id_ in (1, 2)  # in the order each one's replies came
    }
    [whole] = by_id[2]
    assert whole.WhichOneof("result") == "answer"
    assert whole.answer.batch.events[0].text_delta.text == "whole plain"
    assert [r.WhichOneof("result") for r in by_id[1]] == ["event", "event"]
    assert by_id[1][0].event.text_delta.text == "streamed" and by_id[1][1].last


async def test_a_streaming_request_to_a_lane_that_does_not_stream_is_answered_whole() -> None:
    async with _Caller(Lanes(_answer)) as caller:
        caller.send(_streaming(1))
        reply = await caller.read()
        assert await caller.rest() == []
    assert (reply.id, reply.WhichOneof("result")) == (1, "answer")
    assert reply.answer.batch.events[0].text_delta.text == "whole m"


async def test_a_stream_runs_with_its_request_id_deadline_and_its_own_span(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporter = recorded_spans(monkeypatch)
    seen: list[tuple[str, float | None, int]] = []

    async def stream(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        span = trace.get_current_span().get_span_context()
        seen.append((request_id_var.get(), seconds, span.trace_id))
        yield _finished()

    request = _streaming(1, timeout_ms=1500)
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    request.metadata.update(
        {"x-request-id": "req_s", "traceparent": f"00-{trace_id}-b7ad6b7169203331-01"}
    )
    async with _Caller(Lanes(_answer, stream)) as caller:
        caller.send(request)
        assert (await caller.read()).last
        assert await caller.rest() == []

    assert seen == [("req_s", 1.5, int(trace_id, 16))]
    [span] = exporter.get_finished_spans()
    assert span.name == "tollgate.router.v1.RouterService/StreamGenerate"
    assert span.kind is trace.SpanKind.SERVER


async def test_an_id_reused_right_after_its_cancel_belongs_to_the_new_stream() -> None:
    gate = asyncio.Event()

    async def stream(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        if request.model == "old":
            yield _delta("old")
            await gate.wait()
        for n in range(3):
            yield _delta(str(n))
        yield _finished()

    old = _streaming(1)
    old.request.model = "old"
    async with _Caller(Lanes(_answer, stream)) as caller:
        caller.send(old)
        assert (await caller.read()).event.text_delta.text == "old"
        caller.send(_cancel(1), _streaming(1, window=1))  # the old one ends after the new began
        assert (await caller.read()).event.text_delta.text == "0"
        caller.send(_credit(1, 10))  # reaches the new stream, not lost with the old one's end
        rest = [await caller.read() for _ in range(3)]
        assert [r.event.WhichOneof("event") for r in rest] == ["text_delta"] * 2 + ["finished"]
        assert rest[-1].last
