"""A fake Google Gemini upstream speaking the real Gemini API wire protocol:
``POST /v1beta/models/{model}:generateContent`` (JSON) and ``:streamGenerateContent``
(``?alt=sse``: one ``data:`` event per ``GenerateContentResponse``; without it, a JSON array),
authenticated by ``x-goog-api-key`` (or the ``key`` query parameter).

Replies are deterministic: ``"Echo: <last user text>"`` unless scripted, one word per chunk.
Usage is computed from the request: ``promptTokenCount`` = words in the system instruction and
every text part, ``candidatesTokenCount`` = reply words, plus scripted thoughts and cache.

Behaviour (``/_fake/script``, see ``fake_control``): ``status`` (+ ``error`` {message, status})
to fail with Google's error body; ``reply``; ``thoughts`` (a thought part, its words counted as
``thoughtsTokenCount`` unless ``thoughts_tokens`` says otherwise); ``images`` (how many PNGs an image model draws when
``generationConfig.responseModalities`` holds IMAGE, default 1; each counts 1290 candidate tokens,
listed as modality IMAGE in ``candidatesTokensDetails``); ``cached_tokens``
(``cachedContentTokenCount``, part of the prompt); ``function_call`` ({name, args}, or a
list of them); ``finish_reason``; ``break_after_chunks``; ``latency_ms``; ``chunk_delay_ms``.

``POST /v1beta/models/{model}:batchEmbedContents`` answers ``{"embeddings": [{"values"}]}``, one
deterministic vector per request (``embedding_vectors.fake_vector`` of its text,
``outputDimensionality`` long, else 3072), no token counts (the Gemini API reports none). Each
request must name ``models/{model}`` of the URL, hold text parts and be one of at most 100.

Requests are checked as Google does: a missing key is a 403 ``PERMISSION_DENIED``, a wrong key
a 400 ``INVALID_ARGUMENT`` with reason ``API_KEY_INVALID``; empty ``contents`` or a role other
than user / model a 400, a ``functionResponse`` not answering a ``functionCall`` of the turn
before it a 400, ``responseJsonSchema`` beside ``responseSchema`` or without
``responseMimeType: application/json`` a 400, a ``thoughtSignature`` this fake never sent a 400.
Scripted function calls carry a thought signature on the first call (as a thinking Gemini model
sends one) unless the request turned thinking off.

Standalone: ``python -m tests.fakes.gemini_upstream --port N --api-key K``.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from tests.fakes.embedding_vectors import fake_vector
from tests.fakes.fake_control import ScriptedFake, json_body, pieces_of, run, send_stream
from tests.fakes.gemini_bodies import (
    NO_KEY,
    PNG_BASE64,
    Reply,
    bad_key_body,
    error_body,
    pretty,
    sse_frame,
)

_ACTIONS = ("generateContent", "streamGenerateContent")
_EMBED = "batchEmbedContents"
_MAX_BATCH = 100
_DEFAULT_DIMENSIONS = 3072
_MODALITIES = ("TEXT", "IMAGE")


def _text(content: Any) -> str:
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list):
        return ""
    return " ".join(str(p["text"]) for p in parts if isinstance(p, dict) and p.get("text"))


def _responses_follow_calls(contents: list[Any]) -> bool:
    """Each ``functionResponse`` names a ``functionCall`` of the turn just before it."""
    called: set[str] = set()
    for content in contents:
        parts = [p for p in content.get("parts") or () if isinstance(p, dict)]
        for part in parts:
            response = part.get("functionResponse")
            if isinstance(response, dict) and response.get("name") not in called:
                return False
        called = {
            str(p["functionCall"].get("name"))
            for p in parts
            if isinstance(p.get("functionCall"), dict)
        }
    return True


def _json(status: int, body: bytes) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json")


def _embed_problem(model: str, body: Any) -> str | None:
    """What the Gemini API rejects in a batchEmbedContents request, else None."""
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        return "* BatchEmbedContentsRequest.requests: requests is not specified\n"
    if len(requests) > _MAX_BATCH:
        return f"* BatchEmbedContentsRequest.requests: at most {_MAX_BATCH} requests can be in one batch\n"
    for index, item in enumerate(requests):
        if not isinstance(item, dict) or item.get("model") != f"models/{model}":
            return (
                f"* BatchEmbedContentsRequest.requests[{index}].model: the model of each request "
                f"must be models/{model}\n"
            )
        if not _text(item.get("content")):
            return f"* BatchEmbedContentsRequest.requests[{index}].content: contents is not specified\n"
        size = item.get("outputDimensionality")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            return f"* BatchEmbedContentsRequest.requests[{index}].output_dimensionality: invalid\n"
    return None


def _modalities_problem(request: web.Request, config: dict[str, Any]) -> str | None:
    """Gemini answers 400 to ``responseModalities`` it does not know, and to IMAGE output from
    a model that cannot draw (only the ``*-image*`` models can)."""
    modalities = config.get("responseModalities")
    if modalities is None:
        return None
    if not isinstance(modalities, list) or any(m not in _MODALITIES for m in modalities):
        return "* GenerationConfig.response_modalities: invalid value\n"
    model = request.match_info["target"].partition(":")[0]
    if "IMAGE" in modalities and "image" not in model:
        return "The requested combination of response modalities is not supported by the model."
    return None


class FakeGemini(ScriptedFake):
    secret_headers = frozenset({"x-goog-api-key", "authorization"})

    def __init__(self, api_key: str, **options: Any) -> None:
        super().__init__(api_key, **options)
        self.signatures: set[str] = set()  # thought signatures this fake sent

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1beta/models/{target}", self._generate)

    @property
    def base_url(self) -> str:
        """The Gemini base URL of this fake, version path included."""
        return f"http://127.0.0.1:{self.port}/v1beta"

    def _bad_key(self, request: web.Request) -> web.Response | None:
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if not key:
            return _json(403, error_body(403, NO_KEY, "PERMISSION_DENIED"))
        if key != self.api_key:
            return _json(400, bad_key_body())
        return None

    def _invalid(self, request: web.Request, body: Any) -> web.Response | None:
        if (rejected := self._bad_key(request)) is not None:
            return rejected
        if not isinstance(body, dict):
            return _json(400, error_body(400, "Invalid JSON payload received."))
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            return _json(
                400,
                error_body(400, "* GenerateContentRequest.contents: contents is not specified\n"),
            )
        if any(
            not isinstance(c, dict) or c.get("role", "user") not in ("user", "model")
            for c in contents
        ):
            return _json(400, error_body(400, "Please use a valid role: user, model."))
        config = body.get("generationConfig") or {}
        if (problem := _modalities_problem(request, config)) is not None:
            return _json(400, error_body(400, problem))
        if "responseSchema" in config and "responseJsonSchema" in config:
            return _json(
                400, error_body(400, "responseSchema and responseJsonSchema cannot both be set.")
            )
        if (
            config.get("responseJsonSchema")
            and config.get("responseMimeType") != "application/json"
        ):
            return _json(
                400,
                error_body(400, "responseJsonSchema needs responseMimeType application/json."),
            )
        for content in contents:
            for part in content.get("parts") or ():
                signature = part.get("thoughtSignature") if isinstance(part, dict) else None
                if signature is not None and signature not in self.signatures:
                    return _json(400, error_body(400, "Thought signature is not valid."))
        if not _responses_follow_calls(contents):
            return _json(
                400,
                error_body(
                    400,
                    "Please ensure that function response turn comes immediately after a "
                    "function call turn.",
                ),
            )
        return None

    async def _scripted(self, behaviour: dict[str, Any]) -> web.Response | None:
        """Wait the scripted latency; the scripted error response, if any."""
        await self.wait(behaviour)
        if status := behaviour.get("status"):
            err = behaviour.get("error") or {}
            return _json(
                int(status), error_body(int(status), err.get("message", ""), err.get("status", ""))
            )
        return None

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        model, _, action = request.match_info["target"].partition(":")
        body = json_body(await request.read())
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        self.record(request, body, key == self.api_key)
        if action == _EMBED:
            return await self._embed(request, model, body)
        if action not in _ACTIONS:
            return _json(404, error_body(404))
        if (rejected := self._invalid(request, body)) is not None:
            return rejected
        behaviour = self.next_behaviour()
        if (failure := await self._scripted(behaviour)) is not None:
            return failure
        reply = self._reply(model, body, behaviour)
        if action == "generateContent":
            return _json(200, pretty(reply.whole()))
        if request.query.get("alt") != "sse":
            return _json(200, pretty(reply.chunks()))
        headers = {"Content-Type": "text/event-stream", "Content-Disposition": "attachment"}
        frames = [sse_frame(chunk) for chunk in reply.chunks()]
        return await send_stream(request, frames, behaviour, headers, head=0)

    async def _embed(self, request: web.Request, model: str, body: Any) -> web.Response:
        if (rejected := self._bad_key(request)) is not None:
            return rejected
        if (problem := _embed_problem(model, body)) is not None:
            return _json(400, error_body(400, problem))
        behaviour = self.next_behaviour()
        if (failure := await self._scripted(behaviour)) is not None:
            return failure
        embeddings = [
            {
                "values": fake_vector(
                    _text(item["content"]), item.get("outputDimensionality") or _DEFAULT_DIMENSIONS
                )
            }
            for item in body["requests"]
        ]
        return _json(200, pretty({"embeddings": embeddings}))

    def _reply(self, model: str, body: dict[str, Any], behaviour: dict[str, Any]) -> Reply:
        contents = body["contents"]
        last_user = next(
            (_text(c) for c in reversed(contents) if c.get("role", "user") == "user"), ""
        )
        pieces = pieces_of(behaviour.get("reply", f"Echo: {last_user}"))
        finish = behaviour.get("finish_reason", "STOP")
        limit = (body.get("generationConfig") or {}).get("maxOutputTokens")
        if isinstance(limit, int) and limit < len(pieces):
            pieces, finish = pieces[:limit], "MAX_TOKENS"
        thoughts = str(behaviour.get("thoughts", ""))
        prompt = len(_text(body.get("systemInstruction")).split())
        prompt += sum(len(_text(c).split()) for c in contents)
        config = body.get("generationConfig") or {}
        modalities = config.get("responseModalities") or ["TEXT"]
        if "TEXT" not in modalities:
            pieces = []
        images = [PNG_BASE64] * int(behaviour.get("images", 1)) if "IMAGE" in modalities else []
        thinking = config.get("thinkingConfig") or {}
        signature = ""
        if behaviour.get("function_call") and thinking.get("thinkingBudget") != 0:
            signature = secrets.token_urlsafe(24)
            self.signatures.add(signature)
        return Reply(
            model=model,
            signature=signature,
            prompt_tokens=prompt + int(behaviour.get("cached_tokens", 0)),
            text_pieces=pieces,
            finish_reason=finish,
            thoughts=thoughts,
            thoughts_tokens=int(behaviour.get("thoughts_tokens", len(thoughts.split()))),
            cached_tokens=int(behaviour.get("cached_tokens", 0)),
            function_call=behaviour.get("function_call"),
            images=images,
        )


def main(argv: list[str] | None = None) -> None:
    run(FakeGemini, "fake-gemini", argv)


if __name__ == "__main__":
    main()
