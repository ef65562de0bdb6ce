"""A streamed answer's body (server-sent events), written as the router's events come.

What arrived together goes out together: an event's bytes are held while the next event is
already there (the rest of a message from the router, or messages read at once), and written
with it; the status line and headers go out with the first bytes. Every write is a segment that
Envoy reads and forwards and the client reads: one per event ready at the same moment would cost
them, and the edge, a system call and a wake-up each for nothing the client could use sooner.
What is held is bounded (``_HOLD_BYTES``), so a stream whose events keep coming still flows.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}
# Held at most before a write, whatever is ready behind it.
_HOLD_BYTES = 16 * 1024


class Ready(Protocol):
    """The events a body relays: whether the next one can be read without waiting."""

    def ready(self) -> bool: ...


class _HeadersWithFirstWrite(web.StreamResponse):
    """A stream response whose status line and headers are sent with its first bytes, as
    aiohttp sends a whole :class:`web.Response`'s (a stream response sends them at once)."""

    _send_headers_immediately = False


class SseBody:
    """The response of one streamed answer: :meth:`open` it, :meth:`send` each event's bytes,
    :meth:`end` it with the last ones."""

    def __init__(self, headers: dict[str, str], events: Ready) -> None:
        self.response: web.StreamResponse = _HeadersWithFirstWrite(headers=SSE_HEADERS | headers)
        self._events = events
        self._held: list[bytes] = []
        self._held_bytes = 0

    async def open(self, request: web.Request, head: bytes) -> None:
        """Start the response; ``head`` (the answer's first events) goes out with its headers,
        together with whatever the router sent with them."""
        await self.response.prepare(request)
        await self.send(head)

    async def send(self, data: bytes) -> None:
        """Write ``data``, or hold it for the write of the event that is already there."""
        if data:
            self._held.append(data)
            self._held_bytes += len(data)
        if self._held and (self._held_bytes >= _HOLD_BYTES or not self._events.ready()):
            await self.response.write(self._take())

    async def end(self, tail: bytes) -> None:
        """What was held and ``tail``, with the end of the body, in one write."""
        await self.response.write_eof(self._take() + tail)

    def _take(self) -> bytes:
        data = b"".join(self._held)
        self._held.clear()
        self._held_bytes = 0
        return data
