"""Generations: non-streaming generations as messages on one long-lived stream, each answered as
the unary Generate answers it, in the order they finish; a stopping router drains the stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
from google.rpc import error_details_pb2, status_pb2
from prometheus_client.parser import text_string_to_metric_families
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common.errors import error_details
from tollgate_common.testing import free_port

from .support import RouterUnderTest, StartRouter
from .test_router_generate import kinds, request, text


class Stream:
    """One Generations call, written from a queue as the edge does."""

    def __init__(self, router: RouterUnderTest) -> None:
        self._outgoing: asyncio.Queue[pb.GenerationsRequest | None] = asyncio.Queue()
        self.call: Any = router.stub.Generations(self._requests(), timeout=30)

    async def _requests(self) -> AsyncIterator[pb.GenerationsRequest]:
        while (message := await self._outgoing.get()) is not None:
            yield message

    def send(self, id_: int, req: pb.StreamGenerateRequest, **fields: Any) -> None:
        self.put(pb.GenerationsRequest(id=id_, request=req, **fields))

    def put(self, message: pb.GenerationsRequest) -> None:
        self._outgoing.put_nowait(message)

    def half_close(self) -> None:
        self._outgoing.put_nowait(None)

    async def read(self) -> pb.GenerationsResponse:
        message: pb.GenerationsResponse = await asyncio.wait_for(self.call.read(), 15)
        assert message is not grpc.aio.EOF, "the stream ended"
        return message


def asking(question: str) -> pb.StreamGenerateRequest:
    req = request(stream=False)
    del req.messages[:]
    req.messages.add(role="user", text=question)
    return req


def events(answer: pb.StreamGenerateResponse) -> list[pb.StreamGenerateResponse]:
    return list(answer.batch.events)


async def received(router: RouterUnderTest, count: int) -> None:
    while len(router.openai.requests) < count:
        await asyncio.sleep(0.01)


async def test_generations_on_one_stream_are_answered_as_generate_answers_them(
    router: RouterUnderTest,
) -> None:
    router.openai.script(latency_ms=800)  # the first to reach the provider answers late
    stream = Stream(router)

    stream.send(1, asking("slow one"))
    await received(router, 1)
    stream.send(2, asking("fast one"))
    first, second = await stream.read(), await stream.read()
    stream.half_close()

    assert [first.id, second.id] == [2, 1]  # as they finished, each with its own answer
    assert text(events(first.answer)) == "Echo: fast one"
    assert text(events(second.answer)) == "Echo: slow one"
    unary = await router.stub.Generate(request(stream=False), timeout=30)
    assert kinds(events(first.answer)) == kinds(events(unary))
    started = [events(m.answer)[0].started.generation_id for m in (first, second)]
    assert len(set(started)) == 2 and all(g.startswith("gen_") for g in started)
    assert await stream.call.read() is grpc.aio.EOF
    assert await stream.call.code() == grpc.StatusCode.OK


async def test_a_failed_generation_gets_generates_status_and_the_stream_goes_on(
    router: RouterUnderTest,
) -> None:
    unknown = request("acme/no-such-model", stream=False)
    with_generate = await _generate_error(router, unknown)
    stream = Stream(router)

    stream.send(7, unknown)
    failed = await stream.read()
    stream.send(8, request(stream=False))
    answered = await stream.read()
    stream.half_close()

    assert failed.id == 7 and failed.WhichOneof("result") == "error"
    assert failed.error.code == with_generate.code().value[0]
    assert failed.error.message == with_generate.details()
    on_stream = status_pb2.Status.FromString(failed.error.details)
    info = error_details_pb2.ErrorInfo()
    assert on_stream.details[0].Unpack(info)
    expected = error_details(with_generate)
    assert (on_stream.code, on_stream.message) == (failed.error.code, expected.message)
    assert (info.reason, dict(info.metadata)) == (expected.reason, expected.metadata)
    assert info.reason == "MODEL_NOT_FOUND"
    assert answered.id == 8 and text(events(answered.answer)).startswith("Echo:")


async def _generate_error(
    router: RouterUnderTest, req: pb.StreamGenerateRequest
) -> grpc.aio.AioRpcError:
    try:
        await router.stub.Generate(req, timeout=30)
    except grpc.aio.AioRpcError as exc:
        return exc
    raise AssertionError("Generate did not fail")


async def test_generations_are_counted_as_generate_calls(
    nats_url: str, start_router: StartRouter
) -> None:
    port = free_port()
    router = await start_router(nats_url, metrics_addr=f"127.0.0.1:{port}")
    stream = Stream(router)

    stream.send(1, request(stream=False))
    stream.send(2, request("acme/no-such-model", stream=False))
    replies = {(await stream.read()).id for _ in range(2)}
    stream.half_close()
    await stream.call.code()

    assert replies == {1, 2}
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    handled = {
        sample.labels["code"]: sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "tollgate_grpc_server_handled_total"
        and sample.labels["method"] == "Generate"
    }
    assert handled == {"OK": 1.0, "NOT_FOUND": 1.0}


async def test_a_stopping_router_drains_the_stream_and_answers_what_it_received(
    router: RouterUnderTest,
) -> None:
    router.openai.script(latency_ms=700)
    stream = Stream(router)
    stream.send(1, request(stream=False))
    await received(router, 1)

    stopping = asyncio.create_task(router.stop())
    notice = await stream.read()
    stream.half_close()  # as the edge does on `draining`
    answer = await stream.read()

    assert (notice.id, notice.WhichOneof("result")) == (0, "draining")
    assert answer.id == 1 and kinds(events(answer.answer))[-1] == "finished"
    assert await stream.call.read() is grpc.aio.EOF
    assert await stream.call.code() == grpc.StatusCode.OK
    await stopping


async def test_requests_sent_in_one_message_are_each_answered_and_the_router_says_it_reads_them(
    router: RouterUnderTest,
) -> None:
    stream = Stream(router)
    message = pb.GenerationsRequest(id=1, request=asking("first"))
    message.more.add(id=2, request=asking("second"))
    message.more.add(id=3, request=request("acme/no-such-model", stream=False))
    stream.put(message)

    replies: dict[int, pb.GenerationsResponse] = {}
    while len(replies) < 3:
        got = await stream.read()
        assert not got.more  # this caller did not say it reads several in one message
        replies[got.id] = got
    stream.half_close()

    assert ("tollgate-generations-more", "1") in tuple(await stream.call.initial_metadata())
    assert text(events(replies[1].answer)) == "Echo: first"
    assert text(events(replies[2].answer)) == "Echo: second"
    assert replies[3].WhichOneof("result") == "error"
    assert replies[3].error.code == grpc.StatusCode.NOT_FOUND.value[0]
    assert await stream.call.code() == grpc.StatusCode.OK
