"""A fake OpenAI upstream speaking the real Chat Completions wire protocol (JSON and SSE).

Replies are deterministic: ``"Echo: <last user text>"`` unless scripted, one word per stream
chunk. Usage is computed from the request: ``prompt_tokens`` = words in all message texts,
``completion_tokens`` = reply chunks (+ scripted reasoning tokens).

Control surface for tests (no authentication):

* ``POST /_fake/script`` — JSON behaviour for the next ``times`` requests (default 1), queued in
  order: ``status`` (+ optional ``error`` {message, type, code, param}) to fail with OpenAI's
  error envelope; ``reply``; ``cached_tokens``; ``reasoning_tokens``; ``break_after_chunks``
  (cut the connection after that many content chunks); ``latency_ms`` (before the response);
  ``chunk_delay_ms`` (between stream chunks); ``finish_reason``.
* ``GET /_fake/requests`` — ``{"requests": [{method, path, headers, body, authorized}]}``, the
  Authorization header left out.
* ``POST /_fake/reset`` — forget the script and the recorded requests.

In process: ``fake = FakeOpenAI(api_key="sk-test"); port = await fake.start(); ...;
await fake.stop()``. Standalone: ``python -m tests.fakes.openai_upstream --port N --api-key K``.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import time
from collections import deque
from typing import Any

import orjson
from aiohttp import web

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}
_FINGERPRINT = "fp_fake0openai"


def error_body(
    status: int, message: str = "", type_: str = "", code: str | None = "", param: str | None = None
) -> bytes:
    """OpenAI's error envelope for ``status`` (every key present, as the spec requires)."""
    default_type, default_code, default_message = _ERRORS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None, "Error.")
    )
    return orjson.dumps(
        {
            "error": {
                "message": message or default_message,
                "type": type_ or default_type,
                "param": param,
                "code": default_code if code == "" else code,
            }
        }
    )


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _usage(prompt: int, completion: int, cached: int, reasoning: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion + reasoning,
        "total_tokens": prompt + completion + reasoning,
        "prompt_tokens_details": {"cached_tokens": min(cached, prompt), "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class FakeOpenAI:
    def __init__(self, api_key: str = "sk-fake", *, latency_ms: int = 0, record: int = 1000):
        self.api_key = api_key
        self.latency_ms = latency_ms
        self._auth = f"Bearer {api_key}"
        self._script: deque[list[Any]] = deque()  # [behaviour, remaining times]
        self.requests: deque[dict[str, Any]] = deque(maxlen=record)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
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

    @property
    def base_url(self) -> str:
        """The OpenAI base URL of this fake, version path included."""
        return f"http://127.0.0.1:{self.port}/v1"

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

    def _next_behaviour(self) -> dict[str, Any]:
        if not self._script:
            return {}
        entry = self._script[0]
        entry[1] -= 1
        if entry[1] <= 0:
            self._script.popleft()
        behaviour: dict[str, Any] = entry[0]
        return behaviour

    # -- the OpenAI surface -----------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        authorized = request.headers.get("Authorization") == self._auth
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "headers": {k: v for k, v in request.headers.items() if k.lower() != "authorization"},
                "body": body,
                "authorized": authorized,
            }
        )
        if not authorized:
            return _error(401, "Incorrect API key provided.")
        if not isinstance(body, dict) or not body.get("model") or not body.get("messages"):
            missing = "model" if not isinstance(body, dict) or not body.get("model") else "messages"
            return _error(400, f"Missing required parameter: '{missing}'.", param=missing)
        behaviour = self._next_behaviour()
        latency = behaviour.get("latency_ms", self.latency_ms)
        if latency:
            await asyncio.sleep(latency / 1000)
        if status := behaviour.get("status"):
            err = behaviour.get("error") or {}
            return _error(
                int(status),
                err.get("message", ""),
                err.get("type", ""),
                err.get("code", ""),
                err.get("param"),
            )
        return await self._reply(request, body, behaviour)

    async def _reply(
        self, request: web.Request, body: dict[str, Any], behaviour: dict[str, Any]
    ) -> web.StreamResponse:
        messages = body["messages"]
        last_user = next(
            (_text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
        )
        text = behaviour.get("reply", f"Echo: {last_user}")
        words = text.split(" ")
        pieces = [w if i == 0 else " " + w for i, w in enumerate(words)] if text else []
        finish = behaviour.get("finish_reason", "stop")
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(limit, int) and limit < len(pieces):
            pieces, finish = pieces[:limit], "length"
        prompt = sum(len(_text_of(m.get("content")).split()) for m in messages)
        usage = _usage(
            prompt,
            len(pieces),
            int(behaviour.get("cached_tokens", 0)),
            int(behaviour.get("reasoning_tokens", 0)),
        )
        ident = f"chatcmpl-{secrets.token_urlsafe(21)}"
        head = {"id": ident, "created": int(time.time()), "model": body["model"]}
        if not body.get("stream"):
            message = {"role": "assistant", "content": "".join(pieces)}
            return web.Response(
                body=orjson.dumps(
                    {
                        **head,
                        "object": "chat.completion",
                        "choices": [
                            {
                                "index": 0,
                                "message": {**message, "refusal": None, "annotations": []},
                                "logprobs": None,
                                "finish_reason": finish,
                            }
                        ],
                        "usage": usage,
                        "service_tier": "default",
                        "system_fingerprint": _FINGERPRINT,
                    }
                ),
                content_type="application/json",
                headers={"x-request-id": f"req_{secrets.token_hex(16)}"},
            )
        return await self._stream(request, head, body, pieces, finish, usage, behaviour)

    async def _stream(
        self,
        request: web.Request,
        head: dict[str, Any],
        body: dict[str, Any],
        pieces: list[str],
        finish: str,
        usage: dict[str, Any],
        behaviour: dict[str, Any],
    ) -> web.StreamResponse:
        options = body.get("stream_options") or {}
        include_usage = bool(options.get("include_usage"))
        base = {
            **head,
            "object": "chat.completion.chunk",
            "service_tier": "default",
            "system_fingerprint": _FINGERPRINT,
        }

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            payload = {**base, "choices": [choice]}
            if include_usage:
                payload["usage"] = None
            return b"data: " + orjson.dumps(payload) + b"\n\n"

        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "x-request-id": f"req_{secrets.token_hex(16)}",
            }
        )
        await response.prepare(request)
        frames = [chunk({"role": "assistant", "content": "", "refusal": None})]
        frames += [chunk({"content": piece}) for piece in pieces]
        delay = behaviour.get("chunk_delay_ms", 0) / 1000
        cut = behaviour.get("break_after_chunks")
        if cut is not None:
            await _write_all(response, frames[: 1 + int(cut)], delay)
            await asyncio.sleep(0.05)  # let the client read what was sent, then cut
            if request.transport is not None:
                request.transport.abort()
            return response
        frames.append(chunk({}, finish))
        if include_usage:
            frames.append(b"data: " + orjson.dumps({**base, "choices": [], "usage": usage}) + b"\n\n")
        frames.append(b"data: [DONE]\n\n")
        await _write_all(response, frames, delay)
        await response.write_eof()
        return response


async def _write_all(response: web.StreamResponse, frames: list[bytes], delay: float) -> None:
    if not delay:
        await response.write(b"".join(frames))
        return
    for frame in frames:
        await response.write(frame)
        await asyncio.sleep(delay)


def _error(
    status: int, message: str = "", type_: str = "", code: str | None = "", param: str | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=error_body(status, message, type_, code, param),
        content_type="application/json",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI Chat Completions upstream")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default="sk-fake")
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args(argv)

    async def serve() -> None:
        fake = FakeOpenAI(args.api_key, latency_ms=args.latency_ms)
        port = await fake.start(args.port, args.host)
        print(f"fake-openai listening on http://{args.host}:{port}/v1", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await fake.stop()

    try:
        import uvloop
    except ImportError:
        asyncio.run(serve())
    else:
        uvloop.run(serve())


if __name__ == "__main__":
    main()
