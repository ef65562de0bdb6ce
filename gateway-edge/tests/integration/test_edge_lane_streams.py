"""Streams on the edge's generation lanes, against a real grpc.aio server that serves them as the
router does: read as their calls would be, within the window the edge grants, cancelled when
left or past their deadline, failed with a broken lane, kept going on a retired one; a router
that does not serve them gets StreamGenerate calls."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common.errors import error_details
from tollgate_edge.errors import from_rpc
from tollgate_edge.lanes import STREAM_WINDOW

from .lanes_router import LanesRouter, Router, ask, lanes_over, said, until


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
