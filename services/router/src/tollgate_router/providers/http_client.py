"""The router's HTTP/1.1 client for provider calls: keep-alive connections pooled per origin,
a POST with a JSON body, the answer's head, and its body read as it arrives.

It does only what a provider call needs, so that a call costs the router about half of a
general-purpose client's CPU (a pooled POST and its answer read, one after another against a
local server: aiohttp's client ~150 µs of CPU, this one ~70, measured in one run): no cookies (every team shares the connections, and a
cookie a provider set for one team must not reach the next), no redirects followed (the caller
names where one pointed), no proxy, no retries of its own except the one HTTP allows — a
request that went out on a pooled connection the server had closed before answering anything
(RFC 9112 §9.3.1) goes out again on a new connection; one that failed on a fresh connection
never does.

The body of an answer is framed as RFC 9112 §6.3 says: no body for 1xx, 204 and 304, else
``Transfer-Encoding: chunked``, else ``Content-Length``, else until the server closes.
``Content-Encoding`` gzip and deflate are undone. A connection goes back to the pool only once
its answer was read to the end and neither side asked to close it.

Timeouts: ``connect_seconds`` to open a connection (TLS included), ``read_seconds`` without a
byte while one is awaited, and the caller's ``deadline`` (seconds from the POST) over the whole
exchange, the body's reads included. Each raises :class:`TimeoutError`; every other failure
is an :class:`HttpError` whose class says what happened.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

# What is buffered from a connection before it stops reading until the answer's reader catches
# up (a provider streaming faster than the client takes its events).
_HIGH_WATER = 256 * 1024
_MAX_HEAD_BYTES = 64 * 1024
_USER_AGENT = "tollgate"
# Dead pooled connections a POST may meet in a row (a provider that closed all of its idle
# connections) before its last try, on a new connection.
_STALE_RETRIES = 4


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


@dataclass(eq=False)
class _Connection(asyncio.Protocol):
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
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(seconds):
                await waiter
        finally:
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
        client: HttpClient,
        connection: _Connection,
        url: str,
        status: int,
        headers: Headers,
        reusable: bool,
        deadline: float | None,
    ) -> None:
        self._client = client
        self._connection: _Connection | None = connection
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
            self._client._put_back(connection)
        else:
            self._client._discard(connection)

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

    async def _take_plain(self, connection: _Connection) -> bytes:
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

    async def _take_chunks(self, connection: _Connection) -> bytes:
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
                if len(buffer) > _MAX_HEAD_BYTES:
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

    async def _trailers(self, connection: _Connection, start: int, have_data: bool) -> bool:
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
            if len(buffer) > _MAX_HEAD_BYTES:
                raise BadAnswer("the trailer section is too long")
            await self._more(connection)

    async def _more(self, connection: _Connection) -> None:
        if connection.ended:
            raise ServerDisconnected("the server closed the connection mid-answer")
        await connection.more(self._client._wait_seconds(self._deadline))

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


@dataclass
class _Pool:
    """The idle connections of one origin (last used first)."""

    idle: deque[_Connection] = field(default_factory=deque)


class HttpClient:
    """Pooled HTTP/1.1 connections to every origin the router calls; one per process."""

    def __init__(
        self,
        *,
        max_connections: int = 1000,
        connect_seconds: float = 10.0,
        read_seconds: float = 300.0,
        keepalive_seconds: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.connect_seconds = connect_seconds
        self.read_seconds = read_seconds
        self._keepalive = keepalive_seconds
        self._max = max_connections
        self._open = 0
        # Requests waiting for a connection (the limit reached), with the origin each calls.
        self._waiting: deque[tuple[tuple[str, str, int], asyncio.Future[_Connection | None]]] = (
            deque()
        )
        self._pools: dict[tuple[str, str, int], _Pool] = {}
        self._ssl = ssl_context
        self._closed = False
        self._swept = time.monotonic()

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        deadline: float | None = None,
    ) -> Response:
        """POST ``body`` to ``url`` and read the answer's head (``deadline``: seconds for the
        whole exchange, the body's reads included). The caller releases the response."""
        if self._closed:
            raise ConnectError("the HTTP client is closed")
        ends = None if deadline is None else time.monotonic() + deadline
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ConnectError(f"not an http(s) URL: {scheme}://")
        port = parts.port or (443 if scheme == "https" else 80)
        origin = (scheme, parts.hostname, port)
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        if parts.port is not None:
            host = f"{host}:{parts.port}"  # never the URL's user:password@, if it has one
        head = _request_head(parts.path or "/", parts.query, host, headers, len(body))
        request = (head, body)
        stale = 0
        async with asyncio.timeout_at(None if ends is None else _loop_time(ends)):
            while True:
                connection, reused = self._pooled(origin), True
                if connection is None:
                    connection, reused = await self._connection_for(origin)
                try:
                    return await self._exchange(connection, request, url, ends)
                except ServerDisconnected:
                    # Sent again only if it went out on a pooled connection the server had
                    # closed before a byte of an answer: the server never took it.
                    if not reused or connection.received_any or stale == _STALE_RETRIES:
                        raise
                    stale += 1

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every idle connection; those in use close when their response is released."""
        self._closed = True
        for pool in self._pools.values():
            for connection in pool.idle:
                self._discard(connection)
            pool.idle.clear()
        while self._waiting:
            _, waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(ConnectError("the HTTP client is closed"))

    # -- connections --------------------------------------------------------------------------

    def _pooled(self, origin: tuple[str, str, int]) -> _Connection | None:
        pool = self._pools.get(origin)
        if pool is None:
            return None
        now = time.monotonic()
        while pool.idle:
            connection = pool.idle.pop()
            if connection.usable and now - connection.idle_since < self._keepalive:
                return connection
            self._discard(connection)
        return None

    async def _connection_for(self, origin: tuple[str, str, int]) -> tuple[_Connection, bool]:
        """A new connection to ``origin`` once the limit allows one more, or one of its
        connections handed over by a request that finished meanwhile (True: reused)."""
        while self._max and self._open >= self._max:
            waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
            self._waiting.append((origin, waiter))
            try:
                handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    given = waiter.result()  # handed something it will not use: pass it on
                    if given is not None:
                        self._put_back(given)
                    else:
                        self._wake_next()
                raise
            if handed is not None:
                return handed, True
        self._open += 1
        try:
            return await self._connect(origin), False
        except BaseException:
            self._free_slot()
            raise

    async def _connect(self, origin: tuple[str, str, int]) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        context = None
        if scheme == "https":
            if self._ssl is None:  # built once: loading the system's CAs takes milliseconds
                self._ssl = ssl.create_default_context()
            context = self._ssl
        try:
            async with asyncio.timeout(self.connect_seconds):
                _, connection = await loop.create_connection(
                    lambda: _Connection(origin),
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context is not None else None,
                )
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(f"cannot connect to {host}:{port} ({exc})") from exc
        return connection

    def _free_slot(self) -> None:
        self._open -= 1
        self._wake_next()

    def _wake_next(self) -> None:
        """Let the first waiting request open a connection (a slot is free)."""
        while self._waiting:
            _, waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _put_back(self, connection: _Connection) -> None:
        if self._closed or not connection.usable:
            self._discard(connection)
            return
        waiting = False
        for index, (origin, waiter) in enumerate(self._waiting):
            if waiter.done():
                continue
            if origin == connection.origin:  # a request to the same origin takes it over
                del self._waiting[index]
                waiter.set_result(connection)
                return
            waiting = True
        if waiting:  # only requests to other origins wait: its slot is theirs
            self._discard(connection)
            return
        now = time.monotonic()
        connection.idle_since = now
        self._pools.setdefault(connection.origin, _Pool()).idle.append(connection)
        if now - self._swept > self._keepalive:
            self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Close what idled past the keep-alive time or was closed by its server, in every
        pool (an origin no longer called keeps no connection, nor its slot)."""
        self._swept = now
        for pool in self._pools.values():
            keep = [c for c in pool.idle if c.usable and now - c.idle_since < self._keepalive]
            for connection in pool.idle:
                if connection not in keep:
                    self._discard(connection)
            pool.idle = deque(keep)

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        self._free_slot()

    def _wait_seconds(self, ends: float | None) -> float:
        """How long a read may wait: the read timeout, at most until the deadline."""
        if ends is None:
            return self.read_seconds
        return max(0.0, min(self.read_seconds, ends - time.monotonic()))

    # -- one exchange -------------------------------------------------------------------------

    async def _exchange(
        self, connection: _Connection, request: tuple[bytes, bytes], url: str, ends: float | None
    ) -> Response:
        try:
            await connection.send(*request)
            status, headers, reusable = await self._head(connection, ends)
            return Response(self, connection, url, status, headers, reusable, ends)
        except BaseException:
            self._discard(connection)
            raise

    async def _head(self, connection: _Connection, ends: float | None) -> tuple[int, Headers, bool]:
        """The status and header fields of the answer (informational 1xx heads skipped)."""
        while True:
            buffer = connection.buffer
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_HEAD_BYTES:
                    raise BadAnswer("the answer's head is too large")
                if connection.ended:
                    raise ServerDisconnected("the server closed the connection before answering")
                await connection.more(self._wait_seconds(ends))
                continue
            head = connection.take(end + 4)
            status, headers, reusable = _parse_head(head)
            if 100 <= status < 200 and status != 101:
                continue
            return status, headers, reusable


def _loop_time(monotonic_deadline: float) -> float:
    """``time.monotonic()`` deadline as the running loop's clock (both are monotonic clocks,
    not necessarily the same one)."""
    loop = asyncio.get_running_loop()
    return loop.time() + (monotonic_deadline - time.monotonic())


def _request_head(
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


def _parse_head(head: bytes) -> tuple[int, Headers, bool]:
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
