"""A process's link to NATS: connected (with retries) and its streams ensured, then drained.

The link is made once: either before the service starts serving (a service whose work is
consuming facts must not report itself serving without them) or in the background (a service
that serves while NATS is down: its outbox keeps facts meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import quote, urlsplit, urlunsplit

from tollgate_common.bus import Bus

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


def with_credentials(url: str, user: str, password: str) -> str:
    """``url`` (one server or several, comma-separated) with ``user``/``password`` in each
    server's address; ``url`` itself when no user is given or a server names its own."""
    if not user:
        return url
    servers = []
    for server in url.split(","):
        parts = urlsplit(server.strip())
        if "@" not in parts.netloc:
            userinfo = f"{quote(user, safe='')}:{quote(password, safe='')}"
            parts = parts._replace(netloc=f"{userinfo}@{parts.netloc}")
        servers.append(urlunsplit(parts))
    return ",".join(servers)


class BusLink:
    def __init__(
        self,
        url: str,
        client_name: str,
        *,
        replicas: int = 1,
        close_timeout: float = 10.0,
        retry_seconds: float = RETRY_SECONDS,
        user: str = "",
        password: str = "",
    ) -> None:
        # ``_url`` is what logs show; the credentials travel in ``_connect_url`` only.
        self._url = url
        self._connect_url = with_credentials(url, user, password)
        self._client_name = client_name
        self._replicas = replicas
        self._close_timeout = close_timeout
        self._retry_seconds = retry_seconds
        self._bus: Bus | None = None
        self._ready = asyncio.Event()

    @property
    def bus(self) -> Bus | None:
        """The connection once the streams are ensured; None before."""
        return self._bus if self._ready.is_set() else None

    async def connect(self, *, retry: bool) -> Bus:
        """Connect and ensure the streams. With ``retry`` keep trying until it works; without,
        raise once :meth:`Bus.connect` gives up (or the streams cannot be ensured)."""
        bus = self._bus
        while bus is None:
            try:
                bus = self._bus = await Bus.connect(self._connect_url, self._client_name)
            except Exception as exc:
                if not retry:
                    raise
                log.warning(
                    "NATS at %s not reachable (%s); retrying", self._url, type(exc).__name__
                )
                await asyncio.sleep(self._retry_seconds)
        while True:
            try:
                await bus.ensure_streams(replicas=self._replicas)
                break
            except Exception as exc:
                if not retry:
                    raise
                log.warning("cannot ensure JetStream streams (%s); retrying", type(exc).__name__)
                await asyncio.sleep(self._retry_seconds)
        self._ready.set()
        return bus

    async def wait(self, stop: asyncio.Event) -> Bus | None:
        """The connection once linked; None if ``stop`` is set first."""
        if not self._ready.is_set():
            ready = asyncio.ensure_future(self._ready.wait())
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait((ready, stopping), return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in (ready, stopping):
                    waiter.cancel()
        return self.bus

    async def close(self) -> None:
        """Drain the connection (what was published is flushed); a connection that does not
        drain in time (reconnecting, or too slow) is closed."""
        bus = self._bus
        if bus is None:
            return
        try:
            await asyncio.wait_for(bus.close(), self._close_timeout)
        except Exception as exc:
            log.warning("NATS did not drain (%s); closing", type(exc).__name__)
            with contextlib.suppress(Exception):
                await bus.nc.close()
