"""A grpc.aio server that serves ``Generations`` as the router does, for the edge's lane tests
(test_edge_lanes.py, test_edge_lane_streams.py), and what those tests share."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from tollgate.router.v1 import router_pb2 as pb
from tollgate.router.v1 import router_pb2_grpc
from tollgate_common.together import MORE, STREAMS
from tollgate_edge.lanes import GenerationLanes

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


def lanes_over(channel: grpc.aio.Channel, count: int = 2, **kwargs: Any) -> GenerationLanes:
    return GenerationLanes(router_pb2_grpc.RouterServiceStub(channel), TOKEN, count, **kwargs)


def ask(model: str = "test/ok", which: str = "") -> pb.StreamGenerateRequest:
    return pb.StreamGenerateRequest(model=model, caller=pb.CallerContext(key_id=which))


def said(answer: pb.StreamGenerateResponse) -> str:
    return "".join(e.text_delta.text for e in answer.batch.events)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)
