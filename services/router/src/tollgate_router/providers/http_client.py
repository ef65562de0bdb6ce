"""The router's HTTP/1.1 client for provider calls: keep-alive connections pooled per origin,
a POST with a JSON body, the answer's head, and its body read as it arrives.

It does only what a provider call needs, so that a call costs the router about half of a
general-purpose client's CPU (a pooled POST and its answer read, one after another against a
local server: aiohttp's client ~150 µs of CPU, this one ~70, measured in one run): no cookies
(every team shares the connections, and a cookie a provider set for one team must not reach
the next), no redirects followed (the caller names where one pointed), no proxy, no retries of
its own except the one HTTP allows — a request that went out on a pooled connection the server
had closed before answering anything (RFC 9112 §9.3.1) goes out again on a new connection; one
that failed on a fresh connection never does.

What crosses one connection (the heads, the body's framing, gzip) is
:mod:`tollgate_router.providers.http_wire`; this module keeps the connections.

Timeouts: ``connect_seconds`` to open a connection (TLS included), ``read_seconds`` without a
byte while one is awaited, and the caller's ``deadline`` (seconds from the POST) over the whole
exchange, the body's reads included. Each raises :class:`TimeoutError`; every other failure
is an :class:`HttpError` whose class says what happened.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tollgate_router.providers.http_wire import (
    MAX_HEAD_BYTES,
    BadAnswer,
    BodyTooLarge,
    ConnectError,
    Connection,
    Headers,
    HttpError,
    RequestRefused,
    Response,
    ServerDisconnected,
    parse_head,
    request_head,
)

__all__ = [
    "BadAnswer",
    "BodyTooLarge",
    "ConnectError",
    "HttpClient",
    "HttpError",
    "RequestRefused",
    "Response",
    "ServerDisconnected",
]

# Dead pooled connections a POST may meet in a row (a provider that closed all of its idle
# connections) before its last try, on a new connection.
_STALE_RETRIES = 4


@dataclass
class _Pool:
    """The idle connections of one origin (last used first)."""

    idle: deque[Connection] = field(default_factory=deque)


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
        self._waiting: deque[tuple[tuple[str, str, int], asyncio.Future[Connection | None]]] = (
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
        head = request_head(parts.path or "/", parts.query, host, headers, len(body))
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
                self.discard(connection)
            pool.idle.clear()
        while self._waiting:
            _, waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(ConnectError("the HTTP client is closed"))

    # -- connections --------------------------------------------------------------------------

    def _pooled(self, origin: tuple[str, str, int]) -> Connection | None:
        pool = self._pools.get(origin)
        if pool is None:
            return None
        now = time.monotonic()
        while pool.idle:
            connection = pool.idle.pop()
            if connection.usable and now - connection.idle_since < self._keepalive:
                return connection
            self.discard(connection)
        return None

    async def _connection_for(self, origin: tuple[str, str, int]) -> tuple[Connection, bool]:
        """A new connection to ``origin`` once the limit allows one more, or one of its
        connections handed over by a request that finished meanwhile (True: reused)."""
        while self._max and self._open >= self._max:
            waiter: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
            self._waiting.append((origin, waiter))
            try:
                handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    given = waiter.result()  # handed something it will not use: pass it on
                    if given is not None:
                        self.put_back(given)
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

    async def _connect(self, origin: tuple[str, str, int]) -> Connection:
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
                    lambda: Connection(origin),
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

    def put_back(self, connection: Connection) -> None:
        if self._closed or not connection.usable:
            self.discard(connection)
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
            self.discard(connection)
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
                    self.discard(connection)
            pool.idle = deque(keep)

    def discard(self, connection: Connection) -> None:
        connection.close()
        self._free_slot()

    def wait_seconds(self, ends: float | None) -> float:
        """How long a read may wait: the read timeout, at most until the deadline."""
        if ends is None:
            return self.read_seconds
        return max(0.0, min(self.read_seconds, ends - time.monotonic()))

    # -- one exchange -------------------------------------------------------------------------

    async def _exchange(
        self, connection: Connection, request: tuple[bytes, bytes], url: str, ends: float | None
    ) -> Response:
        try:
            await connection.send(*request)
            status, headers, reusable = await self._head(connection, ends)
            return Response(self, connection, url, status, headers, reusable, ends)
        except BaseException:
            self.discard(connection)
            raise

    async def _head(self, connection: Connection, ends: float | None) -> tuple[int, Headers, bool]:
        """The status and header fields of the answer (informational 1xx heads skipped)."""
        while True:
            buffer = connection.buffer
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    raise BadAnswer("the answer's head is too large")
                if connection.ended:
                    raise ServerDisconnected("the server closed the connection before answering")
                await connection.more(self.wait_seconds(ends))
                continue
            head = connection.take(end + 4)
            status, headers, reusable = parse_head(head)
            if 100 <= status < 200 and status != 101:
                continue
            return status, headers, reusable


def _loop_time(monotonic_deadline: float) -> float:
    """``time.monotonic()`` deadline as the running loop's clock (both are monotonic clocks,
    not necessarily the same one)."""
    loop = asyncio.get_running_loop()
    return loop.time() + (monotonic_deadline - time.monotonic())
