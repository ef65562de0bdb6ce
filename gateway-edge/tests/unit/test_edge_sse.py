"""A streamed answer's body goes out in as few writes to the socket as the events allow: the
status line and headers with the first events, what arrived together in one write, and never
held while nothing more is there."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.http_writer import StreamWriter
from aiohttp.test_utils import make_mocked_request
from tollgate.router.v1 import router_pb2
from tollgate_edge.chat import Events
from tollgate_edge.sse import SseBody

pytestmark = pytest.mark.unit


class _Arrivals:
    """Whether the next event is there: the answers given in turn."""

    def __init__(self, *answers: bool) -> None:
        self._answers = list(answers)

    def ready(self) -> bool:
        return self._answers.pop(0)


def _socket() -> tuple[web.Request, list[bytes]]:
    """A request whose connection records each write given to its socket."""
    writes: list[bytes] = []
    transport = mock.Mock()
    transport.is_closing.return_value = False
    transport.write.side_effect = lambda data: writes.append(bytes(data))
    transport.writelines.side_effect = lambda chunks: writes.append(b"".join(chunks))
    protocol = mock.Mock(transport=transport, _paused=False)
    writer = StreamWriter(protocol, asyncio.get_running_loop())
    request = make_mocked_request(
        "POST", "/v1/chat/completions", protocol=protocol, transport=transport, writer=writer
    )
    return request, writes


async def test_the_headers_go_out_with_the_first_events_and_what_came_together_in_one_write() -> (
    None
):
    request, writes = _socket()
    # After the head: a delta already there, then nothing (written), then nothing again.
    body = SseBody({"x-extra": "1"}, _Arrivals(True, False, False))
    await body.open(request, b"data: role\n\n")
    await body.send(b"data: one\n\n")
    await body.send(b"data: two\n\n")
    await body.end(b"data: [DONE]\n\n")

    assert len(writes) == 3
    first = writes[0]
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: text/event-stream; charset=utf-8" in first
    assert b"x-extra: 1" in first
    assert first.endswith(b"data: role\n\ndata: one\n\n\r\n")
    assert writes[1].endswith(b"data: two\n\n\r\n")
    assert writes[2].endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")


async def test_nothing_is_held_when_no_event_is_waiting() -> None:
    request, writes = _socket()
    body = SseBody({}, _Arrivals(False, False))
    await body.open(request, b"data: role\n\n")
    assert len(writes) == 1 and writes[0].endswith(b"data: role\n\n\r\n")
    await body.send(b"data: one\n\n")
    assert len(writes) == 2 and writes[1].endswith(b"data: one\n\n\r\n")


async def test_what_is_held_is_bounded_while_events_keep_coming() -> None:
    request, writes = _socket()
    body = SseBody({}, _Arrivals(*([True] * 100)))
    await body.open(request, b"data: role\n\n")
    delta = b"data: " + b"x" * 1000 + b"\n\n"
    for _ in range(40):
        await body.send(delta)
    assert 2 <= len(writes) <= 3  # 40 KB held never more than 16 KB at a time
    await body.end(b"data: [DONE]\n\n")
    sent = b"".join(writes)
    assert sent.count(delta) == 40 and sent.endswith(b"0\r\n\r\n")


async def test_the_events_of_a_batch_are_ready_together_and_the_last_waits_for_the_next() -> None:
    batch = router_pb2.StreamGenerateResponse(
        batch=router_pb2.EventBatch(
            events=[
                router_pb2.StreamGenerateResponse(text_delta=router_pb2.TextDelta(text="a")),
                router_pb2.StreamGenerateResponse(text_delta=router_pb2.TextDelta(text="b")),
            ]
        )
    )
    alone = router_pb2.StreamGenerateResponse(text_delta=router_pb2.TextDelta(text="c"))

    async def messages() -> AsyncIterator[router_pb2.StreamGenerateResponse]:
        yield batch
        yield router_pb2.StreamGenerateResponse(batch=router_pb2.EventBatch())  # an end
        yield alone

    events = Events(messages())
    seen = []
    async for event in events:
        seen.append((event.text_delta.text, events.ready()))
    assert seen == [("a", True), ("b", False), ("c", False)]
