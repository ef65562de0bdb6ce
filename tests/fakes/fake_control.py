"""What every fake provider shares: the aiohttp server's lifecycle, the scripted behaviour queue,
the request log and the ``/_fake/*`` control surface (no authentication):

* ``POST /_fake/script`` — JSON behaviour for the next ``times`` requests (default 1), queued;
* ``GET /_fake/requests`` — ``{"requests": [{method, path, query, headers, body, authorized}]}``,
  the credential headers left out;
* ``POST /_fake/reset`` — forget the script and the recorded requests.

A fake subclasses :class:`ScriptedFake`, adds its provider routes in ``add_routes`` and records
each provider request with :meth:`ScriptedFake.record`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections import deque
from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import web


class ScriptedFake:
    # Request headers never recorded (the credential).
    secret_headers: frozenset[str] = frozenset({"authorization"})

    def __init__(self, api_key: str, *, latency_ms: int = 0, record: int = 1000) -> None:
        self.api_key = api_key
        self.latency_ms = latency_ms
        self._script: deque[list[Any]] = deque()  # [behaviour, remaining times]
        self.requests: deque[dict[str, Any]] = deque(maxlen=record)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.add_routes(app)
        app.router.add_post("/_fake/script", self._set_script)
        app.router.add_get("/_fake/requests", self._get_requests)
        app.router.add_post("/_fake/reset", self._reset)
        return app

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> int:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- control surface (also usable directly in process) ---------------------------------

    def script(self, times: int = 1, **behaviour: Any) -> None:
        self._script.append([behaviour, max(1, times)])

    def reset(self) -> None:
        self._script.clear()
        self.requests.clear()

    async def _set_script(self, request: web.Request) -> web.Response:
        behaviour = orjson.loads(await request.read())
        self.script(int(behaviour.pop("times", 1)), **behaviour)
        return web.json_response({"queued": len(self._script)})

    async def _get_requests(self, _request: web.Request) -> web.Response:
        return web.Response(
            body=orjson.dumps({"requests": list(self.requests)}), content_type="application/json"
        )

    async def _reset(self, _request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    def next_behaviour(self) -> dict[str, Any]:
        if not self._script:
            return {}
        entry = self._script[0]
        entry[1] -= 1
        if entry[1] <= 0:
            self._script.popleft()
        behaviour: dict[str, Any] = entry[0]
        return behaviour

    async def wait(self, behaviour: dict[str, Any]) -> None:
        latency = behaviour.get("latency_ms", self.latency_ms)
        if latency:
            await asyncio.sleep(latency / 1000)

    def record(self, request: web.Request, body: Any, authorized: bool) -> None:
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "headers": {
                    str(k): v
                    for k, v in request.headers.items()
                    if k.lower() not in self.secret_headers
                },
                "body": body,
                "authorized": authorized,
            }
        )


def json_body(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def pieces_of(text: str) -> list[str]:
    """``text`` as stream pieces: one word each, the space before a word kept with it."""
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)] if text else []


async def send_stream(
    request: web.Request,
    frames: Sequence[bytes],
    behaviour: dict[str, Any],
    headers: dict[str, str],
    *,
    head: int = 1,
) -> web.StreamResponse:
    """Write SSE ``frames`` (all at once without ``chunk_delay_ms``). With
    ``break_after_chunks`` N, only the first ``head`` + N frames go out, then the connection
    dies."""
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    delay = behaviour.get("chunk_delay_ms", 0) / 1000
    cut = behaviour.get("break_after_chunks")
    if cut is not None:
        await _write_all(response, frames[: head + int(cut)], delay)
        await asyncio.sleep(0.05)  # let the client read what was sent, then cut
        if request.transport is not None:
            request.transport.abort()
        return response
    if await _write_all(response, frames, delay):
        await response.write_eof()
    return response


async def _write_all(response: web.StreamResponse, frames: Sequence[bytes], delay: float) -> bool:
    try:
        if not delay:
            await response.write(b"".join(frames))
            return True
        for frame in frames:
            await response.write(frame)
            await asyncio.sleep(delay)
    except ConnectionResetError:
        return False
    return True


def run(fake_type: type[ScriptedFake], description: str, argv: list[str] | None = None) -> None:
    """``python -m tests.fakes.<name> --port N --api-key K``: serve until SIGINT / SIGTERM."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default="fake-key")
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args(argv)

    async def serve() -> None:
        fake = fake_type(args.api_key, latency_ms=args.latency_ms)
        port = await fake.start(args.port, args.host)
        print(f"{description} listening on http://{args.host}:{port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await fake.stop()

    asyncio.run(serve())
