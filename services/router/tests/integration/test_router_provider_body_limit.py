"""A provider's whole (not streamed) answer is read up to 64 MiB, the largest message the router
may pass on: more — with or without a ``Content-Length`` saying so — is a failed attempt of the
provider's own, not memory the router cannot give back. Likewise one event of a stream is read
up to 16 MiB."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from tollgate_router.providers import ProviderError
from tollgate_router.providers.embedding import post_json
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.providers.openai_wire import (
    ChunkParser,
    error_from_response,
    parse_completion,
)
from tollgate_router.providers.sse import SseDecoder
from tollgate_router.providers.transport import MAX_BODY_BYTES, EventList, exchange, read_body

from tests.fakes.openai_upstream import FakeOpenAI

MIB = 1024 * 1024


async def _huge(request: web.Request) -> web.StreamResponse:
    """``size`` bytes of a JSON string, chunked (no Content-Length) unless ``length`` is set."""
    size = int(request.query["size"])
    response = web.StreamResponse(headers={"content-type": "application/json"})
    if "length" in request.query:
        response.content_length = size
    await response.prepare(request)
    piece = b" " * MIB
    sent = 0
    while sent < size:
        part = piece[: min(MIB, size - sent)]
        await response.write(part)
        sent += len(part)
    await response.write_eof()
    return response


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", _huge)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/v1/chat/completions"
    await runner.cleanup()


@pytest.mark.parametrize("length", [False, True], ids=["chunked", "content-length"])
async def test_an_answer_over_64_mib_is_a_failed_attempt(server: str, length: bool) -> None:
    url = f"{server}?size={MAX_BODY_BYTES + 1}" + ("&length=1" if length else "")
    async with HttpClient() as session:
        with pytest.raises(ProviderError) as whole:
            await exchange(
                session,
                url,
                b"{}",
                {},
                stream=False,
                deadline=60,
                parser=ChunkParser,
                parse_body=parse_completion,
                parse_error=error_from_response,
            )
        with pytest.raises(ProviderError) as embedded:
            await post_json(session, url, b"{}", {}, deadline=60, parse_error=error_from_response)
    for raised in (whole.value, embedded.value):
        assert raised.status == 0 and "larger than 64 MiB" in raised.message


async def test_an_answer_within_the_limit_is_read_whole(server: str) -> None:
    async with HttpClient() as client:
        response = await client.post(f"{server}?size={3 * MIB + 5}", b"", {})
        try:
            assert len(await read_body(response, limit=3 * MIB + 5)) == 3 * MIB + 5
        finally:
            response.release()
        response = await client.post(f"{server}?size={3 * MIB + 6}", b"", {})
        try:
            with pytest.raises(ProviderError):
                await read_body(response, limit=3 * MIB + 5)
        finally:
            response.release()


async def test_an_ordinary_answer_is_parsed_as_before() -> None:
    fake = FakeOpenAI("sk-test")
    await fake.start()
    try:
        async with HttpClient() as session:
            events = await exchange(
                session,
                f"{fake.base_url}/chat/completions",
                b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}',
                {"authorization": "Bearer sk-test", "content-type": "application/json"},
                stream=False,
                deadline=10,
                parser=ChunkParser,
                parse_body=parse_completion,
                parse_error=error_from_response,
            )
        assert isinstance(events, EventList)
    finally:
        await fake.stop()


def test_a_stream_event_over_the_limit_is_a_failure_not_a_growing_buffer() -> None:
    # One line that never ends, fed a piece at a time: nine pieces fit, the tenth is too many.
    endless = SseDecoder(limit=1000)
    for _ in range(9):
        assert endless.feed(b"data: " + b"x" * 100) == []
    with pytest.raises(ProviderError) as line:
        endless.feed(b"data: " + b"x" * 100)
    # An event of many data lines whose blank line never comes.
    unended = SseDecoder(limit=1000)
    for _ in range(9):
        assert unended.feed(b"data: " + b"y" * 95 + b"\n") == []
    with pytest.raises(ProviderError) as event:
        unended.feed(b"data: " + b"y" * 95 + b"\n")
    for raised in (line.value, event.value):
        assert raised.status == 0 and "larger than" in raised.message
    # Events under the limit, however many, pass.
    ordinary = SseDecoder(limit=1000)
    events = [e for _ in range(100) for e in ordinary.feed(b"data: " + b"z" * 500 + b"\n\n")]
    assert len(events) == 100 and events[0].data == b"z" * 500
