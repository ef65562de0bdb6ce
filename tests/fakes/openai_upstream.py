"""A fake OpenAI upstream speaking the real Chat Completions wire protocol (JSON and SSE), the
Responses API (``POST /v1/responses``: the response object, or its semantic SSE events; see
``openai_responses_bodies``) and the Embeddings API (``POST /v1/embeddings``).

Replies are deterministic: ``"Echo: <last user text>"`` unless configured (``reply=``) or
scripted, one word per stream chunk (with ``chunk_delay_ms`` 0 the whole stream is written at
once, so a client may read several chunks in one go). Usage is computed from the request: ``prompt_tokens`` = words in all message texts,
``completion_tokens`` = reply chunks (+ scripted reasoning tokens).

Embeddings are deterministic (``embedding_vectors.fake_vector`` of each input, unit length,
float32 values; ``dimensions`` long, else 3072 for a model named ``*large*`` and 1536 otherwise),
as a JSON array or, with ``encoding_format: "base64"``, base64 of little-endian float32. Usage:
``prompt_tokens`` = words of each text input + ids of each token array. Input shapes and
parameters are checked as OpenAI does (400 ``invalid_request_error`` naming the param).

Control surface for tests (no authentication):

* ``POST /_fake/script`` — JSON behaviour for the next ``times`` requests (default 1), queued in
  order: ``status`` (+ optional ``error`` {message, type, code, param}) to fail with OpenAI's
  error envelope; ``reply``; ``cached_tokens``; ``reasoning_tokens``; ``break_after_chunks``
  (cut the connection after that many content chunks); ``latency_ms`` (before the response);
  ``chunk_delay_ms`` (between stream chunks); ``finish_reason``; ``tool_calls`` ([{name,
  arguments}]: the answer calls these tools, ``finish_reason`` ``tool_calls``; ``reply``
  defaults to empty then); ``redirect_to`` (answer ``status``, default 307, with this
  ``Location`` instead); ``set_cookie`` (a ``Set-Cookie`` header on the chat answer, as
  OpenAI's edge sets ``__cf_bm`` and ``_cfuvid``). On ``/v1/responses``, ``reasoning_tokens`` with a ``reasoning``
  request also adds a reasoning item: its summary ``reasoning_summary`` (when the request asks
  for a summary) and an ``encrypted_content`` (when it ``include``s it); ``finish_reason`` does
  not apply there (``max_output_tokens`` makes a response ``incomplete``).

Requests are checked as OpenAI does for tool use: a ``tool`` message must answer a call of the
assistant message before it (else a 400 naming ``messages``).
* ``GET /_fake/requests`` — ``{"requests": [{method, path, headers, body, authorized, api_key}]}``,
  the Authorization header left out of ``headers`` (``api_key``: the bearer key it carried).
* ``POST /_fake/keys`` — ``{"keys": [...]}``: more API keys to accept besides ``--api-key`` (a
  team's BYOK keys), kept until the process ends.
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

from tests.fakes import openai_responses_bodies as responses
from tests.fakes.openai_bodies import (
    chunk_frames,
    completion,
    embedding_list,
    embeddings_problem,
    error_body,
    text_of,
    tool_calls_of,
    usage_of,
)


class FakeOpenAI:
    def __init__(
        self,
        api_key: str = "sk-fake",
        *,
        latency_ms: int = 0,
        reply: str | None = None,
        record: int = 1000,
    ) -> None:
        """``reply`` replaces the echo for every request; ``record`` bounds the requests kept."""
        self.api_key = api_key
        self.latency_ms = latency_ms
        self.reply = reply
        self._auth = f"Bearer {api_key}"
        self._keys: set[str] = set()  # more keys accepted (``/_fake/keys``)
        self._issued: dict[str, str] = {}  # reasoning item id → the encrypted content it got
        self._script: deque[list[Any]] = deque()  # [behaviour, remaining times]
        self.requests: deque[dict[str, Any]] = deque(maxlen=record)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.host = "127.0.0.1"

    # -- lifecycle -------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_post("/_fake/script", self._set_script)
        app.router.add_get("/_fake/requests", self._get_requests)
        app.router.add_post("/_fake/reset", self._reset)
        app.router.add_post("/_fake/keys", self._add_keys)
        return app

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> int:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        self.port, self.host = int(self._runner.addresses[0][1]), host
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """The OpenAI base URL of this fake, version path included."""
        return f"http://{self.host}:{self.port}/v1"

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

    async def _add_keys(self, request: web.Request) -> web.Response:
        keys = orjson.loads(await request.read()).get("keys") or []
        self._keys.update(str(k) for k in keys)
        return web.json_response({"keys": len(self._keys) + 1})

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

    async def _record(self, request: web.Request) -> tuple[Any, bool]:
        """The request's JSON body (None if not JSON) and whether its key is right; recorded."""
        raw = await request.read()
        presented = request.headers.get("Authorization", "")
        key = presented.removeprefix("Bearer ")
        authorized = presented == self._auth or (presented != key and key in self._keys)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "headers": {
                    str(k): v for k, v in request.headers.items() if k.lower() != "authorization"
                },
                "body": body,
                "authorized": authorized,
                "api_key": key,
            }
        )
        return body, authorized

    async def _scripted(self, behaviour: dict[str, Any]) -> web.Response | None:
        """Wait the scripted latency; the scripted error response, if any."""
        latency = behaviour.get("latency_ms", self.latency_ms)
        if latency:
            await asyncio.sleep(latency / 1000)
        if target := behaviour.get("redirect_to"):
            redirect = int(behaviour.get("status", 307))
            return web.Response(status=redirect, headers={"Location": str(target)})
        if status := behaviour.get("status"):
            err = behaviour.get("error") or {}
            return _error(
                int(status),
                err.get("message", ""),
                err.get("type", ""),
                err.get("code", ""),
                err.get("param"),
            )
        return None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body, authorized = await self._record(request)
        if not authorized:
            return _error(401, "Incorrect API key provided.")
        if not isinstance(body, dict) or not body.get("model") or not body.get("messages"):
            missing = "model" if not isinstance(body, dict) or not body.get("model") else "messages"
            return _error(400, f"Missing required parameter: '{missing}'.", param=missing)
        if (problem := _tool_message_problem(body["messages"])) is not None:
            return _error(400, problem, param="messages")
        behaviour = self._next_behaviour()
        if (failure := await self._scripted(behaviour)) is not None:
            return failure
        return await self._reply(request, body, behaviour)

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        body, authorized = await self._record(request)
        if not authorized:
            return _error(401, "Incorrect API key provided.")
        if (problem := responses.problem_of(body, self._issued)) is not None:
            return _error(problem.status, problem.message, "", problem.code, problem.param)
        behaviour = self._next_behaviour()
        if (failure := await self._scripted(behaviour)) is not None:
            return failure
        answer = self._answer(body, behaviour)
        if body.get("stream"):
            return await self._stream(request, responses.frames(answer), behaviour)
        status = "incomplete" if answer.incomplete else "completed"
        return web.Response(
            body=orjson.dumps(answer.response(status)),
            content_type="application/json",
            headers={"x-request-id": f"req_{secrets.token_hex(16)}"},
        )

    def _answer(self, body: dict[str, Any], behaviour: dict[str, Any]) -> responses.Answer:
        calls = [
            responses.function_call_item(str(c["name"]), c.get("arguments", {}))
            for c in behaviour.get("tool_calls") or []
        ]
        echo = "" if calls else f"Echo: {responses.last_user_text(body)}"
        text = behaviour.get("reply", echo if self.reply is None else self.reply)
        words = text.split(" ")
        pieces = [w if i == 0 else " " + w for i, w in enumerate(words)] if text else []
        limit = body.get("max_output_tokens")
        incomplete = isinstance(limit, int) and limit < len(pieces)
        if incomplete:
            pieces = pieces[:limit]
        thought = int(behaviour.get("reasoning_tokens", 0))
        asked = body.get("reasoning") or {}
        reasoning = None
        if thought and asked:
            item_id = f"rs_{secrets.token_hex(24)}"
            summary = behaviour.get("reasoning_summary", "Thinking it over.")
            encrypted = None
            if "reasoning.encrypted_content" in (body.get("include") or ()):
                encrypted = self._issued[item_id] = f"gAAAAAB{secrets.token_urlsafe(48)}"
            reasoning = {
                "id": item_id,
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": summary}]
                if asked.get("summary")
                else [],
                "encrypted_content": encrypted,
            }
        usage = responses.usage_of(
            responses.prompt_words(body),
            len(pieces),
            int(behaviour.get("cached_tokens", 0)),
            thought,
        )
        return responses.Answer(body, reasoning, pieces, calls, usage, incomplete)

    async def _embeddings(self, request: web.Request) -> web.Response:
        body, authorized = await self._record(request)
        if not authorized:
            return _error(401, "Incorrect API key provided.")
        if (problem := embeddings_problem(body)) is not None:
            message, param = problem
            return _error(400, message, param=param)
        behaviour = self._next_behaviour()
        if (failure := await self._scripted(behaviour)) is not None:
            return failure
        return web.Response(
            body=embedding_list(body),
            content_type="application/json",
            headers={"x-request-id": f"req_{secrets.token_hex(16)}"},
        )

    async def _reply(
        self, request: web.Request, body: dict[str, Any], behaviour: dict[str, Any]
    ) -> web.StreamResponse:
        messages = body["messages"]
        last_user = next(
            (text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
        )
        calls = tool_calls_of(behaviour.get("tool_calls") or [])
        echo = "" if calls else f"Echo: {last_user}"
        text = behaviour.get("reply", echo if self.reply is None else self.reply)
        words = text.split(" ")
        pieces = [w if i == 0 else " " + w for i, w in enumerate(words)] if text else []
        finish = behaviour.get("finish_reason", "tool_calls" if calls else "stop")
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(limit, int) and limit < len(pieces):
            pieces, finish = pieces[:limit], "length"
        prompt = sum(len(text_of(m.get("content")).split()) for m in messages)
        usage = usage_of(
            prompt,
            len(pieces),
            int(behaviour.get("cached_tokens", 0)),
            int(behaviour.get("reasoning_tokens", 0)),
        )
        ident, created = f"chatcmpl-{secrets.token_urlsafe(21)}", int(time.time())
        if not body.get("stream"):
            return web.Response(
                body=completion(
                    ident, created, body["model"], "".join(pieces), finish, usage, calls
                ),
                content_type="application/json",
                headers=_answer_headers(behaviour),
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        frames = chunk_frames(
            ident, created, body["model"], pieces, finish, usage if include_usage else None, calls
        )
        return await self._stream(request, frames, behaviour)

    async def _stream(
        self, request: web.Request, frames: list[bytes], behaviour: dict[str, Any]
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                **_answer_headers(behaviour),
            }
        )
        await response.prepare(request)
        delay = behaviour.get("chunk_delay_ms", 0) / 1000
        cut = behaviour.get("break_after_chunks")
        if cut is not None:  # the role chunk, then `cut` content chunks, then a dead connection
            await _write_all(response, frames[: 1 + int(cut)], delay)
            await asyncio.sleep(0.05)  # let the client read what was sent, then cut
            if request.transport is not None:
                request.transport.abort()
            return response
        if await _write_all(response, frames, delay):
            await response.write_eof()
        return response


def _answer_headers(behaviour: dict[str, Any]) -> dict[str, str]:
    """A request id, and the scripted cookie (as OpenAI's edge sets ``__cf_bm``/``_cfuvid``)."""
    headers = {"x-request-id": f"req_{secrets.token_hex(16)}"}
    if cookie := behaviour.get("set_cookie"):
        headers["Set-Cookie"] = str(cookie)
    return headers


async def _write_all(response: web.StreamResponse, frames: list[bytes], delay: float) -> bool:
    """Write ``frames`` (at once without a delay); False if the client went away."""
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


def _tool_message_problem(messages: list[Any]) -> str | None:
    """OpenAI's check: each ``tool`` message answers a call of the last assistant message."""
    open_calls: set[str] = set()
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        if message.get("role") == "assistant":
            open_calls = {c.get("id") for c in message.get("tool_calls") or ()}
        elif message.get("role") == "tool" and message.get("tool_call_id") not in open_calls:
            return (
                f"Invalid parameter: messages with role 'tool' must be a response to a "
                f"preceeding message with 'tool_calls' (messages[{index}])."
            )
    return None


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
    parser.add_argument("--reply", default=None, help="fixed reply instead of the echo")
    args = parser.parse_args(argv)

    async def serve() -> None:
        fake = FakeOpenAI(args.api_key, latency_ms=args.latency_ms, reply=args.reply)
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
