"""The shared HTTP transport against a server that closes keep-alive connections: a POST that
went out on a pooled connection the server had just dropped is sent again on a new one; a POST
on a fresh connection never is (the server may have taken it)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import orjson
import pytest
from tollgate_router.providers import ProviderError
from tollgate_router.providers.embedding import post_json
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.providers.openai_wire import (
    ChunkParser,
    error_from_response,
    parse_completion,
)
from tollgate_router.providers.transport import EventList, exchange

COMPLETION = orjson.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hello"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
)


@dataclass
class KeepAliveServer:
    """HTTP/1.1 over a raw socket, so the test decides when a connection dies. It answers the
    first ``answered_per_connection`` requests of each connection and keeps it open; when the
    next one arrives it closes the connection without reading or answering it, as a server
    that closed an idle connection at the moment the client reused it."""

    answered_per_connection: int
    answered: list[tuple[int, bytes]] = field(default_factory=list)  # (connection, body)
    dropped: list[int] = field(default_factory=list)  # connections closed on a request
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number, served = next(self._numbers), 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if served == self.answered_per_connection:
                    self.dropped.append(number)
                    return
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                self.answered.append((number, await reader.readexactly(length)))
                served += 1
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(COMPLETION)}\r\n\r\n".encode()
                    + COMPLETION
                )
                await writer.drain()
        except asyncio.IncompleteReadError:
            return
        finally:
            writer.close()


@pytest.fixture
async def session() -> AsyncIterator[HttpClient]:
    async with HttpClient() as client:
        yield client


async def serve(server: KeepAliveServer) -> tuple[asyncio.Server, str]:
    running = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = running.sockets[0].getsockname()[1]
    return running, f"http://127.0.0.1:{port}/v1/chat/completions"


async def chat(session: HttpClient, url: str, body: bytes) -> list[object]:
    stream = await exchange(
        session,
        url,
        body,
        {"Content-Type": "application/json"},
        stream=False,
        deadline=10,
        parser=ChunkParser,
        parse_body=parse_completion,
        parse_error=error_from_response,
    )
    assert isinstance(stream, EventList)
    return [event async for event in stream.events()]


async def embed(session: HttpClient, url: str, body: bytes) -> bytes:
    return await post_json(session, url, body, {}, deadline=10, parse_error=error_from_response)


@pytest.mark.parametrize("send", [chat, embed], ids=["chat", "embeddings"])
async def test_a_pooled_connection_closed_by_the_server_is_retried_on_a_new_one(
    session: HttpClient, send: Callable[..., Awaitable[object]]
) -> None:
    server = KeepAliveServer(answered_per_connection=1)
    running, url = await serve(server)
    async with running:
        first = await send(session, url, b'{"n":1}')
        second = await send(session, url, b'{"n":2}')

    assert first == second and first
    # The second request went out on the first connection, found it closed, and was answered
    # on a second connection: sent twice, taken once.
    assert server.dropped == [0]
    assert server.answered == [(0, b'{"n":1}'), (1, b'{"n":2}')]


async def test_a_fresh_connection_closed_before_an_answer_is_not_retried(
    session: HttpClient,
) -> None:
    server = KeepAliveServer(answered_per_connection=0)
    running, url = await serve(server)
    async with running:
        with pytest.raises(ProviderError) as failed:
            await chat(session, url, b'{"n":1}')

    assert failed.value.status == 0 and "ServerDisconnected" in str(failed.value)
    assert server.dropped == [0] and server.answered == []


async def test_every_dead_pooled_connection_is_skipped(session: HttpClient) -> None:
    server = KeepAliveServer(answered_per_connection=1)
    running, url = await serve(server)
    async with running:
        # Two connections in the pool, each with its one request answered.
        await asyncio.gather(chat(session, url, b'{"n":1}'), chat(session, url, b'{"n":2}'))
        # Both pooled connections are dead: the request meets each, then a new one.
        await chat(session, url, b'{"n":3}')

    assert sorted(server.dropped) == [0, 1]
    assert len(server.answered) == 3 and server.answered[-1] == (2, b'{"n":3}')
