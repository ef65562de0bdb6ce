"""The edge's generation lanes against a real grpc.aio server that serves ``Generations`` as the
router does: answers by id as they finish, failures as statuses, deadlines, a lane that breaks,
a router that drains, one that does not know ``Generations``, lanes retired by age; streams
read as their calls would be, within the window the edge grants, cancelled when left."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from tollgate.router.v1 import router_pb2 as pb
from tollgate.router.v1 import router_pb2_grpc
from tollgate_common.errors import error_details
from tollgate_common.together import MORE, STREAMS
from tollgate_edge.errors import from_rpc
from tollgate_edge.lanes import STREAM_WINDOW, GenerationLanes

TOKEN = (("x-tollgate-internal-token", "edge-token"),)


def not_found() -> pb.GenerationsError:
    info = error_details_pb2.ErrorInfo(
        reason="MODEL_NOT_FOUND", domain="tollgate", metadata={"param": "model"}
    )
    status = status_pb2.Status(code=grpc.StatusCode.NOT_FOUND.value[0], message="no such model")
    status.details.add().Pack(info)
    return pb.GenerationsError(
        code=status.code, message=status.message, details=status.SerializeToString()
    )


class LanesRouter(router_pb2_grpc.RouterServiceServicer):
    """Answers each request by its model: ``test/ok`` at once (its text says which request it
    was), ``test/held`` once :attr:`release` is set, ``test/unknown`` with NOT_FOUND. Accepts
    each stream at once, as the router does (``accepts`` False: as the release before did,
    with its first answer). ``together``: says it reads several requests in one message, as
    the router does, and sends the answers that are ready together in one (the release before:
    neither). ``streams``: says it serves streaming requests, and answers them as the router
    does (:meth:`_stream`)."""

    def __init__(self, accepts: bool = True, together: bool = False, streams: bool = False) -> None:
        self.accepts = accepts
        self.together = together
        self.serves_streams = streams
        self.windows: list[int] = []  # each streaming request's window
        self.sent: dict[int, int] = {}  # events sent, by stream id
        self.credited: dict[int, int] = {}  # credit granted, by stream id
        self.cancelled: list[int] = []
        self._credit = asyncio.Event()
        self._running: dict[int, asyncio.Task[None]] = {}
        self.messages: list[int] = []  # the requests each message carried
        self.answer_messages = 0
        self.streams = 0
        self.half_closed = 0
        self.metadata: list[dict[str, str]] = []
        self.per_request: list[dict[str, str]] = []
        self.release = asyncio.Event()
        self.arrived = asyncio.Event()
        self._outputs: list[asyncio.Queue[pb.GenerationsResponse | None]] = []

    def drain(self) -> None:
        for output in self._outputs:
            output.put_nowait(pb.GenerationsResponse(id=0, draining=True))

    async def Generations(  # type: ignore[override]
        self, request_iterator: AsyncIterator[pb.GenerationsRequest], context: Any
    ) -> AsyncIterator[pb.GenerationsResponse]:
        self.streams += 1
        self.metadata.append(dict(context.invocation_metadata()))
        if self.accepts:
            said = ((MORE,) if self.together else ()) + ((STREAMS,) if self.serves_streams else ())
            await context.send_initial_metadata(said)
        answers_together = self.together and MORE in tuple(context.invocation_metadata())
        output: asyncio.Queue[pb.GenerationsResponse | None] = asyncio.Queue()
        self._outputs.append(output)
        tasks: set[asyncio.Task[None]] = set()

        async def read() -> None:
            async for message in request_iterator:
                self.messages.append(1 + len(message.more))
                for request in (message, *message.more):
                    if not request.HasField("request"):
                        self._control(request)
                        continue
                    self.per_request.append(dict(request.metadata))
                    if request.request.stream:
                        task = asyncio.create_task(self._stream(request, output))
                        self._running[request.id] = task
                    else:
                        task = asyncio.create_task(self._answer(request, output))
                    tasks.add(task)
            self.half_closed += 1
            await asyncio.gather(*tasks)
            output.put_nowait(None)

        reader = asyncio.create_task(read())
        try:
            while (message := await output.get()) is not None:
                while answers_together and not output.empty():
                    more = output.get_nowait()
                    if more is None:
                        output.put_nowait(None)
                        break
                    message.more.append(more)
                self.answer_messages += 1
                yield message
        finally:
            reader.cancel()

    def _control(self, request: pb.GenerationsRequest) -> None:
        if request.cancel:
            self.cancelled.append(request.id)
            self._running[request.id].cancel()
        else:
            self.credited[request.id] = self.credited.get(request.id, 0) + request.credit
            self._credit.set()

    async def _stream(
        self, request: pb.GenerationsRequest, output: asyncio.Queue[pb.GenerationsResponse | None]
    ) -> None:
        """``test/stream``: as many deltas as its key id says, then ``finished``, within the
        window; ``test/held``: a delta, then the rest once released; ``test/unknown``: NOT_FOUND.
        """
        id_, model, window = request.id, request.request.model, request.window
        self.windows.append(window)
        self.sent[id_] = 0
        if model == "test/unknown":
            output.put_nowait(pb.GenerationsResponse(id=id_, error=not_found()))
            return
        count = int(request.request.caller.key_id or "1")
        for n in range(count + 1):
            while window and self.sent[id_] >= window + self.credited.get(id_, 0):
                self._credit.clear()
                await self._credit.wait()
            if n == count:
                event = pb.StreamGenerateResponse(
                    finished=pb.GenerationFinished(finish_reason="stop")
                )
            else:
                event = pb.StreamGenerateResponse(text_delta=pb.TextDelta(text=str(n)))
            self.sent[id_] += 1
            output.put_nowait(pb.GenerationsResponse(id=id_, event=event, last=n == count))
            if model == "test/held" and n == 0:
                self.arrived.set()
                await self.release.wait()

    async def _answer(
        self, request: pb.GenerationsRequest, output: asyncio.Queue[pb.GenerationsResponse | None]
    ) -> None:
        model = request.request.model
        if model == "test/unknown":
            output.put_nowait(pb.GenerationsResponse(id=request.id, error=not_found()))
            return
        if model == "test/held":
            self.arrived.set()
            await self.release.wait()
        text = pb.StreamGenerateResponse(
            text_delta=pb.TextDelta(text=request.request.caller.key_id)
        )
        answer = pb.StreamGenerateResponse(batch=pb.EventBatch(events=[text]))
        output.put_nowait(pb.GenerationsResponse(id=request.id, answer=answer))


class Router:
    def __init__(self, servicer: router_pb2_grpc.RouterServiceServicer, port: int = 0) -> None:
        self.servicer = servicer
        self.server = grpc.aio.server()
        router_pb2_grpc.add_RouterServiceServicer_to_server(servicer, self.server)
        self.port = self.server.add_insecure_port(f"127.0.0.1:{port}")


@pytest.fixture
async def router() -> AsyncIterator[Router]:
    running = Router(LanesRouter())
    await running.server.start()
    yield running
    await running.server.stop(0)


@pytest.fixture
async def channel(router: Router) -> AsyncIterator[grpc.aio.Channel]:
    opened = grpc.aio.insecure_channel(
        f"127.0.0.1:{router.port}", options=[("grpc.max_reconnect_backoff_ms", 200)]
    )
    yield opened
    await opened.close()


def lanes_over(channel: grpc.aio.Channel, count: int = 2, **kwargs: Any) -> GenerationLanes:
    return GenerationLanes(router_pb2_grpc.RouterServiceStub(channel), TOKEN, count, **kwargs)


def ask(model: str = "test/ok", which: str = "") -> pb.StreamGenerateRequest:
    return pb.StreamGenerateRequest(model=model, caller=pb.CallerContext(key_id=which))


def said(answer: pb.StreamGenerateResponse) -> str:
    return "".join(e.text_delta.text for e in answer.batch.events)


async def test_concurrent_generations_share_the_lanes_and_each_gets_its_own_answer(
    router: Router, channel: grpc.aio.Channel
) -> None:
    lanes = lanes_over(channel, count=2)
    metadata = (
        ("x-request-id", "req-1"),
        ("traceparent", "00-" + "a" * 32 + "-" + "b" * 16 + "-01"),
    )

    answers = await asyncio.gather(
        *(lanes.generate(ask(which=f"request {i}"), metadata, 10) for i in range(40))
    )
    await lanes.close()

    assert [said(a) for a in answers] == [f"request {i}" for i in range(40)]
    servicer = router.servicer
    assert isinstance(servicer, LanesRouter)
    assert servicer.streams == 2  # 40 generations, two streams
    assert all(m["x-tollgate-internal-token"] == "edge-token" for m in servicer.metadata)
    assert servicer.per_request[0] == dict(metadata)  # per generation: request id, trace
    assert servicer.messages == [1] * 40  # a router that did not say it reads them together


async def test_requests_queued_together_share_a_message_to_a_router_that_reads_them() -> None:
    together = Router(LanesRouter(together=True))
    await together.server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{together.port}")
    lanes = lanes_over(channel, count=1)
    try:
        answers = await asyncio.gather(
            *(lanes.generate(ask(which=f"request {i}"), (), 10) for i in range(100))
        )
    finally:
        await lanes.close()
        await channel.close()
        await together.server.stop(0)

    assert [said(a) for a in answers] == [f"request {i}" for i in range(100)]
    servicer = together.servicer
    assert isinstance(servicer, LanesRouter)
    # The hundred were queued while the lane waited for the router to accept it: they went
    # out 64 (the most a message carries) and 36, and their answers came back together too.
    assert servicer.messages == [64, 36]
    assert servicer.answer_messages < 100


async def test_a_failure_is_the_error_the_generate_call_would_raise(
    channel: grpc.aio.Channel,
) -> None:
    lanes = lanes_over(channel)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await lanes.generate(ask("test/unknown"), (), 10)
    after = await lanes.generate(ask(which="still fine"), (), 10)
    await lanes.close()

    details = error_details(raised.value)
    assert (details.code, details.message) == (grpc.StatusCode.NOT_FOUND, "no such model")
    assert (details.reason, details.metadata) == ("MODEL_NOT_FOUND", {"param": "model"})
    error = from_rpc(raised.value)
    assert (error.status, error.code, error.param) == (404, "model_not_found", "model")
    assert said(after) == "still fine"


async def test_a_deadline_fails_the_generation_alone(
    router: Router, channel: grpc.aio.Channel
) -> None:
    lanes = lanes_over(channel, count=1)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await lanes.generate(ask("test/held"), (), 0.2)
    after = await lanes.generate(ask(which="next"), (), 10)
    await lanes.close()

    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert from_rpc(raised.value).status == 504
    assert said(after) == "next"
    assert isinstance(router.servicer, LanesRouter) and router.servicer.streams == 1


async def test_a_broken_lane_fails_what_waits_on_it_and_the_next_request_opens_a_new_one(
    router: Router, channel: grpc.aio.Channel
) -> None:
    servicer = router.servicer
    assert isinstance(servicer, LanesRouter)
    lanes = lanes_over(channel, count=1)
    waiting = asyncio.create_task(lanes.generate(ask("test/held"), (), 30))
    await servicer.arrived.wait()

    await router.server.stop(0)  # the router dies with the generation in flight
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await asyncio.wait_for(waiting, 10)
    again = Router(LanesRouter(), router.port)
    await again.server.start()
    try:
        answer = await retried(lanes, ask(which="after the restart"))
    finally:
        await lanes.close()
        await again.server.stop(0)

    assert raised.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    assert from_rpc(raised.value).status in (502, 503)
    assert said(answer) == "after the restart"


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


async def retried(lanes: GenerationLanes, request: pb.StreamGenerateRequest) -> Any:
    """The router is coming back: a request fails as long as it is not listening yet."""
    for _ in range(50):
        try:
            return await lanes.generate(request, (), 10)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("the router did not come back")


async def test_a_draining_router_gets_no_new_request_on_the_lane_and_answers_the_rest(
    router: Router, channel: grpc.aio.Channel
) -> None:
    servicer = router.servicer
    assert isinstance(servicer, LanesRouter)
    lanes = lanes_over(channel, count=1)
    held = asyncio.create_task(lanes.generate(ask("test/held", "held"), (), 30))
    await servicer.arrived.wait()

    servicer.drain()
    await until(lambda: servicer.half_closed == 1)  # the lane half-closes: nothing more on it
    after = await lanes.generate(ask(which="on a new lane"), (), 10)
    servicer.release.set()
    answer = await asyncio.wait_for(held, 10)
    await lanes.close()

    assert said(answer) == "held"  # sent before the notice: still answered
    assert said(after) == "on a new lane"
    assert servicer.streams == 2


async def test_lanes_are_renewed_after_their_max_age(
    router: Router, channel: grpc.aio.Channel
) -> None:
    lanes = lanes_over(channel, count=1, max_age_seconds=0.0)

    answers = [await lanes.generate(ask(which=str(i)), (), 10) for i in range(3)]
    servicer = router.servicer
    assert isinstance(servicer, LanesRouter)
    await until(lambda: servicer.half_closed == 2)  # the two retired lanes were half-closed
    await lanes.close()

    assert [said(a) for a in answers] == ["0", "1", "2"]
    assert servicer.streams == 3


async def test_a_router_of_the_release_before_that_accepts_streams_late_is_answered() -> None:
    older = Router(LanesRouter(accepts=False))
    await older.server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{older.port}")
    lanes = lanes_over(channel)
    try:
        answers = await asyncio.gather(*(lanes.generate(ask(which=str(n)), (), 10) for n in "01"))
        assert [said(a) for a in answers] == ["0", "1"]
    finally:
        await lanes.close()
        await channel.close()
        await older.server.stop(0)


async def test_a_router_without_generations_is_sent_generate_calls_instead() -> None:
    older = Router(router_pb2_grpc.RouterServiceServicer())  # every method UNIMPLEMENTED
    await older.server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{older.port}")
    lanes = lanes_over(channel)
    try:
        assert lanes.usable()
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await lanes.generate(ask(), (), 10)
        assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert not lanes.usable()  # the edge uses Generate for a while (chat._answer)
    finally:
        await lanes.close()
        await channel.close()
        await older.server.stop(0)


# Streams on lanes.


@pytest.fixture
async def streaming() -> AsyncIterator[Router]:
    running = Router(LanesRouter(streams=True))
    await running.server.start()
    yield running
    await running.server.stop(0)


@pytest.fixture
async def streaming_channel(streaming: Router) -> AsyncIterator[grpc.aio.Channel]:
    opened = grpc.aio.insecure_channel(f"127.0.0.1:{streaming.port}")
    yield opened
    await opened.close()


def servicer_of(router: Router) -> LanesRouter:
    assert isinstance(router.servicer, LanesRouter)
    return router.servicer


def streamed(model: str, count: int = 1) -> pb.StreamGenerateRequest:
    return pb.StreamGenerateRequest(
        model=model, stream=True, caller=pb.CallerContext(key_id=str(count))
    )


def texts(messages: list[pb.StreamGenerateResponse]) -> list[str]:
    return [m.text_delta.text for m in messages if m.WhichOneof("event") == "text_delta"]


async def test_a_stream_on_a_lane_reads_as_its_call_would(
    streaming: Router, streaming_channel: grpc.aio.Channel
) -> None:
    lanes = lanes_over(streaming_channel, count=1)
    metadata = (("x-request-id", "req-s"),)

    stream = await lanes.stream(streamed("test/stream", 3), metadata, 10)
    messages = [m async for m in stream]
    again = [m async for m in await lanes.stream(streamed("test/stream", 2), (), 10)]
    await lanes.close()

    assert texts(messages) == ["0", "1", "2"]
    assert messages[-1].WhichOneof("event") == "finished"
    assert stream.done() and not stream.cancel()  # read to its end: nothing to cancel
    assert texts(again) == ["0", "1"]
    servicer = servicer_of(streaming)
    assert servicer.streams == 1  # two generations, one lane, no StreamGenerate call
    assert servicer.windows == [STREAM_WINDOW] * 2
    assert servicer.per_request[0] == dict(metadata)
    assert servicer.credited == {} and servicer.cancelled == []  # short: no control message


async def test_a_long_stream_is_credited_as_it_is_read(
    streaming: Router, streaming_channel: grpc.aio.Channel
) -> None:
    lanes = lanes_over(streaming_channel, count=1)
    count = 5 * STREAM_WINDOW

    messages = [m async for m in await lanes.stream(streamed("test/stream", count), (), 10)]
    await lanes.close()

    assert texts(messages) == [str(n) for n in range(count)]
    [credit] = servicer_of(streaming).credited.values()
    # Half a window at a time: enough for every event past the first window, no more.
    assert count + 1 - STREAM_WINDOW <= credit <= count + 1


async def test_a_reader_that_stops_holds_its_own_stream_back_and_the_lane_goes_on(
    streaming: Router, streaming_channel: grpc.aio.Channel
) -> None:
    servicer = servicer_of(streaming)
    lanes = lanes_over(streaming_channel, count=1)
    slow = await lanes.stream(streamed("test/stream", 10 * STREAM_WINDOW), (), 30)
    first = await anext(slow)  # ... and nothing more is read

    await until(lambda: sum(servicer.sent.values()) >= STREAM_WINDOW)
    others = [m async for m in await lanes.stream(streamed("test/stream", 3), (), 10)]
    answer = await lanes.generate(ask(which="also answered"), (), 10)
    held_at = dict(servicer.sent)
    slow.cancel()
    await until(lambda: servicer.cancelled != [])
    await lanes.close()

    assert first.text_delta.text == "0"
    assert texts(others) == ["0", "1", "2"] and said(answer) == "also answered"
    slow_id = min(held_at)
    assert held_at[slow_id] == STREAM_WINDOW  # the router was held at the window, not ahead
    assert servicer.cancelled == [slow_id]


async def test_a_stream_left_early_is_cancelled_on_the_router(
    streaming: Router, streaming_channel: grpc.aio.Channel
) -> None:
    servicer = servicer_of(streaming)
    lanes = lanes_over(streaming_channel, count=1)
    stream = await lanes.stream(streamed("test/held", 3), (), 30)
    assert (await anext(stream)).text_delta.text == "0"

    assert stream.cancel() and stream.done()
    await until(lambda: servicer.cancelled != [])
    rest = [m async for m in stream]
    await lanes.close()

    assert servicer.cancelled == [1]
    assert rest == []  # a cancelled stream reads as ended


async def test_a_streams_failure_is_the_error_its_call_would_raise(
    streaming: Router, streaming_channel: grpc.aio.Channel
) -> None:
    lanes = lanes_over(streaming_channel, count=1)
    stream = await lanes.stream(streamed("test/unknown"), (), 10)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await anext(stream)
    await lanes.close()

    details = error_details(raised.value)
    assert (details.code, details.reason) == (grpc.StatusCode.NOT_FOUND, "MODEL_NOT_FOUND")
    assert from_rpc(raised.value).status == 404
    assert stream.done()


async def test_a_streams_deadline_fails_it_and_cancels_it_on_the_router(
    streaming: Router, streaming_channel: grpc.aio.Channel
) -> None:
    servicer = servicer_of(streaming)
    lanes = lanes_over(streaming_channel, count=1)
    stream = await lanes.stream(streamed("test/held", 3), (), 0.3)
    assert (await anext(stream)).text_delta.text == "0"

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await anext(stream)
    await until(lambda: servicer.cancelled != [])
    await lanes.close()

    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert from_rpc(raised.value).status == 504


async def test_a_broken_lane_fails_its_streams_as_a_broken_call(
    streaming: Router, streaming_channel: grpc.aio.Channel
) -> None:
    servicer = servicer_of(streaming)
    lanes = lanes_over(streaming_channel, count=1)
    stream = await lanes.stream(streamed("test/held", 3), (), 30)
    await servicer.arrived.wait()

    await streaming.server.stop(0)  # the router dies with the stream in flight
    assert (await anext(stream)).text_delta.text == "0"  # what had come is read
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await anext(stream)
    await lanes.close()

    assert raised.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    assert from_rpc(raised.value).status in (502, 503)


async def test_a_retired_lane_still_credits_its_streams_and_half_closes_after_them(
    streaming: Router, streaming_channel: grpc.aio.Channel
) -> None:
    servicer = servicer_of(streaming)
    lanes = lanes_over(streaming_channel, count=1)
    count = 3 * STREAM_WINDOW
    stream = await lanes.stream(streamed("test/stream", count), (), 30)
    first = await anext(stream)

    servicer.drain()
    await until(lambda: servicer.sent.get(1) == STREAM_WINDOW)
    assert servicer.half_closed == 0  # the stream still needs credit: the lane stays open
    rest = [m async for m in stream]
    await until(lambda: servicer.half_closed == 1)  # ... until it ended
    await lanes.close()

    assert texts([first, *rest]) == [str(n) for n in range(count)]


async def test_a_router_that_does_not_serve_streams_on_lanes_is_sent_stream_calls() -> None:
    older = Router(LanesRouter(together=True))  # lanes, but no streams on them
    await older.server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{older.port}")
    lanes = lanes_over(channel)
    try:
        assert lanes.streams_usable()
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await lanes.stream(streamed("test/stream"), (), 10)
        assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert not lanes.streams_usable()  # StreamGenerate for a while (chat._streamed)
        assert lanes.usable()  # non-streaming generations still go on lanes
        assert said(await lanes.generate(ask(which="whole"), (), 10)) == "whole"
    finally:
        await lanes.close()
        await channel.close()
        await older.server.stop(0)
