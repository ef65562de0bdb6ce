"""``python -m tollgate_edge`` on SIGTERM: it stops accepting connections at once, lets a stream
in flight run to its end (within the grace period), closes its peer channels and exits 0."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Any

import aiohttp


async def _refused(port: int, timeout: float = 10.0) -> bool:
    """Whether new connections to ``port`` are refused within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return True
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.05)
    return False


async def test_sigterm_drains_a_stream_in_flight_before_the_edge_exits(edge_process: Any) -> None:
    edge, process = edge_process.edge, edge_process.process
    body = {"model": "test/held", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with aiohttp.ClientSession() as http:
        reply = await http.post(
            f"{edge.url}/v1/chat/completions",
            json=body,
            headers=edge.headers,
            timeout=aiohttp.ClientTimeout(total=60),
        )
        assert reply.status == 200
        assert b'"role":"assistant"' in await reply.content.readuntil(b"\n\n")
        assert b'"content":"tick"' in await reply.content.readuntil(b"\n\n")

        process.send_signal(signal.SIGTERM)
        assert await _refused(edge.port), "the edge still accepts connections after SIGTERM"
        await asyncio.sleep(1.0)  # the stream is held: the edge waits for it
        assert process.returncode is None, "the edge exited with a stream in flight"

        edge.fakes.router.release.set()
        rest = await reply.content.read()
        reply.release()

    assert b'"content":"Hello"' in rest and b'"content":", world"' in rest
    assert rest.endswith(b"data: [DONE]\n\n")
    assert not edge.fakes.router.cancelled.is_set()
    assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    messages = [json.loads(line)["msg"] for line in edge_process.log.read_text().splitlines()]
    assert messages.index("edge shutting down") < messages.index("edge stopped")
