"""One HTTP/1.1 connection to a provider and what crosses it: the request's head, the answer's
head, and the answer's body as it arrives (the pool that owns the connections is
:mod:`tollgate_router.providers.http_client`).

The body of an answer is framed as RFC 9112 §6.3 says: no body for 1xx, 204 and 304, else
``Transfer-Encoding: chunked``, else ``Content-Length``, else until the server closes.
``Content-Encoding`` gzip and deflate are undone. A connection goes back to its owner's pool
only once its answer was read to the end and neither side asked to close it.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, cast

# What is buffered from a connection before it stops reading until the answer's reader catches
# up (a provider streaming faster than the client takes its events).
_HIGH_WATER = 256 * 1024
MAX_HEAD_BYTES = 64 * 1024
_USER_AGENT = "tollgate"


class HttpError(Exception):
    """The exchange failed (not a timeout): the connection, or what the server sent."""


class ConnectError(HttpError):
    """No connection could be opened (refused, unresolvable, TLS handshake failed)."""


class ServerDisconnected(HttpError):
    """The server closed the connection before the answer was complete."""


class BadAnswer(HttpError):
    """What the server sent is not an HTTP/1.1 answer this client can read."""


class BodyTooLarge(HttpError):
    """The body is larger than the reader allows."""


class RequestRefused(HttpError):
    """The request cannot be sent as given (a header with a line break in it)."""


class Owner(Protocol):
    """Who takes a connection back once its answer is done with (the client's pool)."""

    def put_back(self, connection: Connection) -> None: ...

    def discard(self, connection: Connection) -> None: ...

    def wait_seconds(self, ends: float | None) -> float:
        """How long a read may wait (the read timeout, at most until ``ends``)."""
        ...


@dataclass(eq=False)
class Connection(asyncio.Protocol):
    """One TCP (or TLS) connection: what it received, buffered, and whether it ended."""

    origin: tuple[str, str, int]
    transport: asyncio.Transport | None = None
    buffer: bytearray = field(default_factory=bytearray)
    ended: bool = False
    error: BaseException | None = None
    received_any: bool = False  # a byte of the current answer arrived
    idle_since: float = 0.0
    _waiter: asyncio.Future[None] | None = None
    _paused: bool = False
    _drained: asyncio.Future[None] | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's is not a subclass of asyncio's, but has its methods).
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.received_any = True
        if len(self.buffer) > _HIGH_WATER and self.transport is not None and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool | None:
        self.ended = True
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.error = exc
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    # -- for the client -----------------------------------------------------------------------

    @property
    def usable(self) -> bool:
        """Idle, open, and nothing arrived since its last answer."""
        transport = self.transport
        return (
            transport is not None
            and not transport.is_closing()
            and not self.ended
            and not self.buffer
        )

    async def send(self, head: bytes, body: bytes) -> None:
        assert self.transport is not None
        self.received_any = False
        self.transport.writelines((head, body))
        if self._drained is not None:
            await self._drained

    async def more(self, seconds: float) -> None:
        """Wait until more bytes (or the end) arrive, at most ``seconds``."""
        if self.ended:
            raise ServerDisconnected("the server closed the connection") from self.error
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        # One timer, not an asyncio.timeout (a context object and a reschedule per read).
        timer = loop.call_later(seconds, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def take(self, size: int) -> bytes:
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def take_all(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.ended = True

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Headers:
    """An answer's header fields, looked up by name in any case; a repeated field's values are
    joined with commas, as HTTP allows (``Set-Cookie`` too, which that would garble: nothing
    reads it)."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, str]) -> None:
        self._fields = fields

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._fields.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields.items())


class Response:
    """An answer whose head was read; its body is read with :meth:`read_some` / :meth:`read`.
    :meth:`release` once done with it (in a ``finally``): the connection goes back to the pool
    if the body was read to its end, else it is closed."""

    def __init__(
        self,
        owner: Owner,
        connection: Connection,
        url: str,
        status: int,
        headers: Headers,
        reusable: bool,
        deadline: float | None,
    ) -> None:
        self._owner = owner
        self._connection: Connection | None = connection
        self.url = url
        self.status = status
        self.headers = headers
        self._reusable = reusable
        self._deadline = deadline
        self._chunked = False
        self._left: int | None = None  # bytes left of the body (or of the current chunk)
        self._done = False
        self._decoder: zlib._Decompress | None = None
        framing = headers.get("transfer-encoding", "") or ""
        length = headers.get("content-length")
        if status < 200 or status in (204, 304):
            self._done = True
        elif "chunked" in framing.lower():
            self._chunked = True
        elif length is not None:
            try:
                self._left = int(length)
            except ValueError:
                raise BadAnswer(f"Content-Length is not a number: {length[:40]!r}") from None
            self._done = self._left == 0
        else:
            self._reusable = False  # the body ends when the server closes the connection
        coding = (headers.get("content-encoding", "") or "").strip().lower()
        if coding in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self._decoder = zlib.decompressobj()
        elif coding not in ("", "identity"):
            raise BadAnswer(f"unsupported Content-Encoding {coding[:40]!r}")

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value is not None and value.isdigit() else None

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters (as aiohttp and the spec name it)."""
        value = self.headers.get("content-type")
        if not value:
            return "application/octet-stream"
        return value.split(";", 1)[0].strip().lower()

    @property
    def at_eof(self) -> bool:
        return self._done

    async def read_some(self) -> bytes:
        """What of the body has arrived (waiting for at least one byte); ``b""`` at its end."""
        while not self._done:
            data = self._decoded(await self._take())
            if data:
                return data
        return self._flush_decoder()

    async def read(self, limit: int | None = None) -> bytes:
        """The rest of the body; more than ``limit`` bytes raise :class:`BodyTooLarge`."""
        parts: list[bytes] = []
        size = 0
        while data := await self.read_some():
            size += len(data)
            if limit is not None and size > limit:
                raise BodyTooLarge(f"the body is larger than {limit} bytes")
            parts.append(data)
        return b"".join(parts)

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._done and self._reusable:
            self._owner.put_back(connection)
        else:
            self._owner.discard(connection)

    def close(self) -> None:
        """Drop the connection whatever was read (the rest of the body is not wanted)."""
        self._reusable = False
        self._done = True
        self.release()

    # -- framing ------------------------------------------------------------------------------

    async def _take(self) -> bytes:
        connection = self._connection
        if connection is None:
            raise ServerDisconnected("the response was released")
        if not self._chunked:
            return await self._take_plain(connection)
        return await self._take_chunks(connection)

    async def _take_plain(self, connection: Connection) -> bytes:
        while not connection.buffer:
            if connection.ended and self._left is None:
                self._done = True  # read until the server closes: this is its end
                return b""
            await self._more(connection)
        if self._left is None:
            return connection.take_all()
        data = connection.take(self._left)
        self._left -= len(data)
        self._done = self._left == 0
        return data

    async def _take_chunks(self, connection: Connection) -> bytes:
        """Every whole or partial chunk's data that has arrived (at least one byte or the end)."""
        parts: list[bytes] = []
        while True:
            buffer = connection.buffer
            if self._left:  # inside a chunk's data
                if not buffer:
                    if parts:
                        break
                    await self._more(connection)
                    continue
                piece = connection.take(self._left)
                self._left -= len(piece)
                parts.append(piece)
                continue
            if self._left == 0:  # the CRLF after a chunk's data
                if len(buffer) < 2:
                    if parts:
                        break
                    await self._more(connection)
                    continue
                if buffer[:2] != b"\r\n":
                    raise BadAnswer("a chunk is not followed by CRLF")
                del buffer[:2]
                self._left = None
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    raise BadAnswer("a chunk size line is too long")
                if parts:
                    break
                await self._more(connection)
                continue
            size_text = bytes(buffer[:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadAnswer(f"bad chunk size {size_text[:20]!r}") from None
            if size == 0:
                if not await self._trailers(connection, line_end + 2, bool(parts)):
                    break  # the trailers have not all arrived; what was read goes first
                self._done = True
                break
            del buffer[: line_end + 2]
            self._left = size
        return b"".join(parts)

    async def _trailers(self, connection: Connection, start: int, have_data: bool) -> bool:
        """Consume the last chunk and its trailer section (until an empty line)."""
        while True:
            buffer = connection.buffer
            end = buffer.find(b"\r\n", start)
            while end >= 0 and end != start:  # skip trailer fields
                start = end + 2
                end = buffer.find(b"\r\n", start)
            if end == start:
                del buffer[: end + 2]
                return True
            if have_data:
                return False
            if len(buffer) > MAX_HEAD_BYTES:
                raise BadAnswer("the trailer section is too long")
            await self._more(connection)

    async def _more(self, connection: Connection) -> None:
        if connection.ended:
            raise ServerDisconnected("the server closed the connection mid-answer")
        await connection.more(self._owner.wait_seconds(self._deadline))

    def _decoded(self, data: bytes) -> bytes:
        if self._decoder is None or not data:
            return data
        try:
            return self._decoder.decompress(data)
        except zlib.error as exc:
            raise BadAnswer(f"the body cannot be decompressed ({exc})") from None

    def _flush_decoder(self) -> bytes:
        decoder, self._decoder = self._decoder, None
        return decoder.flush() if decoder is not None else b""


def request_head(
    path: str, query: str, host: str, headers: Mapping[str, str], length: int
) -> bytes:
    target = f"{path}?{query}" if query else path
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}"]
    named = set()
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise RequestRefused(f"the header {name!r} cannot be sent (a line break in it)")
        lines.append(f"{name}: {value}")
        named.add(name.lower())
    if "user-agent" not in named:
        lines.append(f"User-Agent: {_USER_AGENT}")
    if "accept" not in named:
        lines.append("Accept: */*")
    if "accept-encoding" not in named:
        lines.append("Accept-Encoding: gzip, deflate")
    lines.append(f"Content-Length: {length}")
    try:
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError:
        raise RequestRefused("a header holds characters HTTP/1.1 cannot carry") from None


def parse_head(head: bytes) -> tuple[int, Headers, bool]:
    lines = head[:-4].split(b"\r\n")
    status_line = lines[0].split(b" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/1."):
        raise BadAnswer(f"not an HTTP/1.x status line: {lines[0][:40]!r}")
    try:
        status = int(status_line[1])
    except ValueError:
        raise BadAnswer(f"bad status code {status_line[1][:10]!r}") from None
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise BadAnswer(f"bad header line {line[:40]!r}")
        key = name.decode("latin-1").lower()
        text = value.strip().decode("latin-1")
        fields[key] = f"{fields[key]}, {text}" if key in fields else text
    connection = fields.get("connection", "").lower()
    if status_line[0] == b"HTTP/1.0":
        reusable = "keep-alive" in connection
    else:
        reusable = "close" not in connection
    return status, Headers(fields), reusable
