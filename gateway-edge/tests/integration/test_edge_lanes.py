"""The edge's generation lanes against a real grpc.aio server that serves ``Generations`` as the
router does: answers by id as they finish, failures as statuses, deadlines, a lane that breaks,
a router that drains, one that does not know ``Generations``, lanes retired by age (streams:
test_edge_lane_streams.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from tollgate.router.v1 import router_pb2 as pb
from tollgate.router.v1 import router_pb2_grpc
from tollgate_common.errors import error_details
from tollgate_edge.errors import from_rpc
from tollgate_edge.lanes import GenerationLanes

from .lanes_router import LanesRouter, Router, ask, lanes_over, said, until


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
