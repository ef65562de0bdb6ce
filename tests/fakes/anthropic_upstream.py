"""A fake Anthropic upstream speaking the real Messages wire protocol (``POST /v1/messages``,
JSON and SSE, ``x-api-key`` + ``anthropic-version``).

Replies are deterministic: ``"Echo: <last user text>"`` unless scripted, one word per
``text_delta``. Usage is computed from the request: uncached ``input_tokens`` = words in the
system prompt and every message's text, ``output_tokens`` = reply words (+ scripted thinking
words); scripted ``cache_read_tokens`` / ``cache_write_tokens`` are reported beside them (as
Anthropic does: ``input_tokens`` excludes them).

Behaviour (``/_fake/script``, see ``fake_control``): ``status`` (+ ``error`` {type, message}) to
fail with Anthropic's error body; ``reply``; ``thinking`` (a thinking block with a signature);
``tool_use`` ({name, input}, or a list of them: tool_use blocks, stop reason ``tool_use``);
``cache_read_tokens``;
``cache_write_tokens``; ``stop_reason``; ``error_after_start`` (a status: the stream sends
``message_start``, then an ``error`` event); ``break_after_chunks`` (cut the connection after
that many events following ``message_start``); ``latency_ms``; ``chunk_delay_ms``.

Requests are checked as Anthropic does: a wrong or missing ``x-api-key`` is a 401
``authentication_error``, a missing ``anthropic-version`` / ``model`` / ``max_tokens`` /
``messages`` a 400, a message role other than user / assistant a 400, a ``tool_result`` whose
``tool_use_id`` is not a ``tool_use`` of the message before it a 400, an ``image`` /
``document`` block with an unknown source type or a media type the API does not take (images:
JPEG, PNG, GIF, WebP; documents: PDF, plain text) a 400, a ``thinking`` budget of
less than 1024 tokens or not below ``max_tokens`` a 400, a ``thinking`` block sent back whose
signature this fake did not issue a 400, and with thinking on a last assistant turn that uses
tools without starting with its thinking a 400.

In process: ``fake = FakeAnthropic("sk-ant-test"); await fake.start(); fake.base_url``.
Standalone: ``python -m tests.fakes.anthropic_upstream --port N --api-key K``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.anthropic_bodies import (
    Reply,
    error_body,
    error_frame,
    message,
    message_start,
    request_id,
    stream_frames,
    usage,
)
from tests.fakes.fake_control import ScriptedFake, json_body, pieces_of, run, send_stream


def _text(content: Any) -> str:
    """The text of a message's content (a string, or text / tool_result blocks)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif block.get("type") == "tool_result":
            texts.append(_text(block.get("content")))
    return " ".join(t for t in texts if t)


def _tool_result_problem(messages: list[Any]) -> str | None:
    """Anthropic's check: each ``tool_result`` answers a ``tool_use`` of the message before."""
    previous: set[str] = set()
    for index, turn in enumerate(messages):
        content = turn.get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        for block in blocks:
            if block.get("type") == "tool_result" and block.get("tool_use_id") not in previous:
                return (
                    f"messages.{index}: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{block.get('tool_use_id')}. Each `tool_result` block must have a "
                    "corresponding `tool_use` block in the previous message."
                )
        previous = {str(b.get("id")) for b in blocks if b.get("type") == "tool_use"}
    return None


def _words(text: str) -> int:
    return len(text.split())


def _error(status: int, kind: str = "", text: str = "") -> web.Response:
    return web.Response(
        status=status,
        body=error_body(status, kind, text),
        content_type="application/json",
        headers={"request-id": request_id()},
    )


_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
# Source types and base64 media types of each block, as the Messages API validates them.
_SOURCES = {
    "image": {"base64": _IMAGE_TYPES, "url": ()},
    "document": {"base64": ("application/pdf",), "text": ("text/plain",), "url": ()},
}


def _media_problem(messages: list[Any]) -> str | None:
    """Anthropic's validation of ``image`` and ``document`` blocks: a known source type, an
    accepted media type, data (or a url) present."""
    for index, turn in enumerate(messages):
        content = turn.get("content")
        for position, block in enumerate(content if isinstance(content, list) else ()):
            kind = block.get("type") if isinstance(block, dict) else None
            if kind not in _SOURCES:
                continue
            where = f"messages.{index}.content.{position}.{kind}.source"
            source = block.get("source") or {}
            allowed = _SOURCES[kind].get(source.get("type"))
            if allowed is None:
                return (
                    f"{where}: Input tag {source.get('type')!r} found using 'type' does not match"
                )
            if source["type"] == "url":
                if not str(source.get("url", "")).startswith(("https://", "http://")):
                    return f"{where}.url.url: Field required"
                continue
            if source.get("media_type") not in allowed:
                names = " or ".join(repr(t) for t in allowed)
                return f"{where}.{source['type']}.media_type: Input should be {names}"
            if not source.get("data"):
                return f"{where}.{source['type']}.data: Field required"
    return None


class FakeAnthropic(ScriptedFake):
    secret_headers = frozenset({"x-api-key", "authorization"})

    def __init__(self, api_key: str, **options: Any) -> None:
        super().__init__(api_key, **options)
        self.signatures: set[str] = set()  # of the thinking blocks this fake sent

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._messages)

    @property
    def base_url(self) -> str:
        """The Anthropic base URL of this fake, version path included."""
        return f"http://127.0.0.1:{self.port}/v1"

    def _invalid(self, request: web.Request, body: Any) -> web.Response | None:
        if request.headers.get("x-api-key") != self.api_key:
            return _error(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return _error(400, text="anthropic-version: header is required")
        if not isinstance(body, dict):
            return _error(400, text="There was an issue with the format of the request body.")
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                return _error(400, text=f"{name}: Field required")
        for index, item in enumerate(body["messages"]):
            if not isinstance(item, dict) or item.get("role") not in ("user", "assistant"):
                return _error(
                    400, text=f"messages.{index}.role: Input should be 'user' or 'assistant'"
                )
        if (problem := _tool_result_problem(body["messages"])) is not None:
            return _error(400, text=problem)
        if (problem := _media_problem(body["messages"])) is not None:
            return _error(400, text=problem)
        if (problem := self._thinking_problem(body)) is not None:
            return _error(400, text=problem)
        return None

    def _thinking_problem(self, body: dict[str, Any]) -> str | None:
        """Anthropic's checks of extended thinking: the budget, the signatures of thinking sent
        back (only ones this fake issued are valid), and — with thinking on — a final
        assistant turn that uses tools must start with its thinking."""
        for index, turn in enumerate(body["messages"]):
            for block in turn.get("content") if isinstance(turn.get("content"), list) else ():
                if (
                    isinstance(block, dict)
                    and block.get("type") == "thinking"
                    and block.get("signature") not in self.signatures
                ):
                    return f"messages.{index}: Invalid `signature` in `thinking` block"
        thinking = body.get("thinking")
        if not (isinstance(thinking, dict) and thinking.get("type") == "enabled"):
            return None
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or not 1024 <= budget < body["max_tokens"]:
            return "thinking.budget_tokens: must be at least 1024 and less than max_tokens"
        assistant = [(i, t) for i, t in enumerate(body["messages"]) if t.get("role") == "assistant"]
        if not assistant or not isinstance(assistant[-1][1].get("content"), list):
            return None
        index, last = assistant[-1]
        blocks = [b for b in last["content"] if isinstance(b, dict)]
        uses_tools = any(b.get("type") == "tool_use" for b in blocks)
        if uses_tools and blocks[0].get("type") not in ("thinking", "redacted_thinking"):
            return (
                f"messages.{index}.content.0.type: Expected `thinking` or `redacted_thinking`, "
                f"but found `{blocks[0].get('type')}`. When `thinking` is enabled, a final "
                "`assistant` message must start with a thinking block."
            )
        return None

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = json_body(await request.read())
        self.record(request, body, request.headers.get("x-api-key") == self.api_key)
        if (rejected := self._invalid(request, body)) is not None:
            return rejected
        behaviour = self.next_behaviour()
        await self.wait(behaviour)
        if status := behaviour.get("status"):
            err = behaviour.get("error") or {}
            return _error(int(status), err.get("type", ""), err.get("message", ""))
        reply = self._reply(body, behaviour)
        if not body.get("stream"):
            return web.Response(
                body=message(reply),
                content_type="application/json",
                headers={"request-id": request_id()},
            )
        headers = {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "request-id": request_id(),
        }
        if failing := behaviour.get("error_after_start"):
            err = behaviour.get("error") or {}
            frames = [
                message_start(reply),
                error_frame(int(failing), err.get("type", ""), err.get("message", "")),
            ]
            return await send_stream(request, frames, behaviour, headers)
        return await send_stream(request, stream_frames(reply), behaviour, headers)

    def _reply(self, body: dict[str, Any], behaviour: dict[str, Any]) -> Reply:
        messages = body["messages"]
        last_user = next(
            (_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
        )
        text = behaviour.get("reply", f"Echo: {last_user}")
        pieces = pieces_of(text)
        thinking = str(behaviour.get("thinking", ""))
        tool_use = behaviour.get("tool_use")
        stop_reason = behaviour.get("stop_reason", "tool_use" if tool_use else "end_turn")
        limit = body["max_tokens"]
        if isinstance(limit, int) and limit < len(pieces):
            pieces, stop_reason, tool_use = pieces[:limit], "max_tokens", None
        prompt = _words(_text(body.get("system"))) + sum(
            _words(_text(m.get("content"))) for m in messages
        )
        counts = usage(
            prompt,
            len(pieces) + _words(thinking),
            int(behaviour.get("cache_read_tokens", 0)),
            int(behaviour.get("cache_write_tokens", 0)),
        )
        reply = Reply(
            model=str(body["model"]),
            text_pieces=pieces,
            stop_reason=stop_reason,
            usage=counts,
            thinking=thinking,
            tool_use=tool_use,
        )
        if thinking:
            self.signatures.add(reply.signature)
        return reply


def main(argv: list[str] | None = None) -> None:
    run(FakeAnthropic, "fake-anthropic", argv)


if __name__ == "__main__":
    main()
