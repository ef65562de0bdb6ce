"""The fault suite's load: ``workers`` official ``openai`` clients, each sending one request
after another (streaming chat, streaming chat, chat, embeddings, in turn), and what each request
came to for the client (:class:`Attempt`): completed, refused with a status, or failed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import openai
from openai.types.chat import ChatCompletionChunk

from tests.faults.harness import CHAT_IN, CHAT_MODEL, CHAT_OUT, EMBED_IN, EMBED_MODEL, PROMPT, Team


@dataclass
class Attempt:
    """One request and what the client saw of it."""

    kind: str  # "stream", "chat" or "embed"
    completed: bool = False
    generation_id: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    status: int | None = None  # the HTTP status of a refusal
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    ended: float = 0.0

    def expected_cost(self) -> Decimal:
        if self.kind == "embed":
            return self.prompt_tokens * EMBED_IN
        return self.prompt_tokens * CHAT_IN + self.completion_tokens * CHAT_OUT


@dataclass
class Load:
    """``workers`` clients in a thread of their own, each sending one request after another
    (streaming chat, streaming chat, chat, embeddings, in turn) until stopped."""

    team: Team
    workers: int = 8
    attempts: list[Attempt] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Load:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> list[Attempt]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=90)
            assert not self._thread.is_alive(), "the load did not stop within 90 s"
        return self.attempts

    def completed(self) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if a.completed]

    def wait_for(self, probe: Callable[[list[Attempt]], bool], what: str, timeout: float) -> None:
        """Until ``probe`` holds of the attempts so far (bounded: fails with ``what``)."""

        def check() -> bool:
            with self._lock:
                return probe(list(self.attempts))

        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"the load never reached {what} in {timeout} s"
            time.sleep(0.1)

    def wait_completed(self, more: int, timeout: float = 90.0) -> None:
        """Until ``more`` further requests have completed."""
        start = len(self.completed())
        self.wait_for(
            lambda a: sum(x.completed for x in a) >= start + more, f"{more} more completed", timeout
        )

    async def _run(self) -> None:
        api = openai.AsyncOpenAI(
            base_url=self.team.stack.base_url, api_key=self.team.key, max_retries=0, timeout=90
        )
        async with api:
            await asyncio.gather(*(self._worker(api, w) for w in range(self.workers)))

    async def _worker(self, api: openai.AsyncOpenAI, worker: int) -> None:
        turn = worker
        while not self._stop.is_set():
            kind = ("stream", "stream", "chat", "embed")[turn % 4]
            attempt = Attempt(kind)
            with self._lock:
                self.attempts.append(attempt)
            text = f"{PROMPT} {worker}-{turn}"
            try:
                if kind == "stream":
                    await _stream(api, text, attempt)
                elif kind == "chat":
                    await _chat(api, text, attempt)
                else:
                    await _embed(api, text, attempt)
            except openai.APIStatusError as exc:
                attempt.status, attempt.error = exc.status_code, _refusal(exc)
            except Exception as exc:  # any failure is recorded: that is what the load is for
                attempt.error = f"{type(exc).__name__}: {exc}"[:200]
            attempt.ended = time.monotonic()
            if not attempt.completed:
                await asyncio.sleep(0.1)  # a refused request is not retried in a tight loop
            turn += 1


async def _chat(api: openai.AsyncOpenAI, text: str, attempt: Attempt) -> None:
    answer = await api.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": text}]
    )
    attempt.generation_id = answer.id
    if answer.usage is not None:
        attempt.prompt_tokens = answer.usage.prompt_tokens
        attempt.completion_tokens = answer.usage.completion_tokens
        attempt.completed = True


def _refusal(exc: openai.APIStatusError) -> str:
    """An error answer as ``type (code): message``: what it is first, however long its
    message."""
    body = exc.body if isinstance(exc.body, dict) else {}
    kind, code = body.get("type"), body.get("code")
    return f"{kind} ({code}): {body.get('message', exc.body)}"[:200]


async def _stream(api: openai.AsyncOpenAI, text: str, attempt: Attempt) -> None:
    """Read the server-sent events as they come (the SDK's raw stream), so that a stream that
    stops without ``[DONE]`` is told apart from one that finished."""
    async with api.chat.completions.with_streaming_response.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": text}],
        stream=True,
        stream_options={"include_usage": True},
    ) as response:
        done, usage = False, None
        async for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line.removeprefix("data:").strip()
            if data == "[DONE]":
                done = True
                break
            if data.startswith('{"error"'):
                attempt.error = f"stream error event: {data[:150]}"
                return
            chunk = ChatCompletionChunk.model_validate_json(data)
            attempt.generation_id = attempt.generation_id or chunk.id
            usage = chunk.usage or usage
    if usage is not None:
        attempt.prompt_tokens, attempt.completion_tokens = (
            usage.prompt_tokens,
            usage.completion_tokens,
        )
    attempt.completed = done and usage is not None
    if not attempt.completed:
        attempt.error = f"stream ended without [DONE] and usage (done={done})"


async def _embed(api: openai.AsyncOpenAI, text: str, attempt: Attempt) -> None:
    answer = await api.embeddings.create(model=EMBED_MODEL, input=text)
    meta = (answer.model_extra or {}).get("providerMetadata") or {}
    attempt.generation_id = (meta.get("gateway") or {}).get("generationId")
    attempt.prompt_tokens = answer.usage.prompt_tokens
    attempt.completed = bool(attempt.generation_id) and len(answer.data) == 1
