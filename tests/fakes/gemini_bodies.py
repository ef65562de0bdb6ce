"""Gemini API response bodies as the fake upstream sends them: ``GenerateContentResponse``
objects (whole, or one per SSE event / JSON array item) and Google's error body, shaped like the
Gemini API reference ("generateContent", "streamGenerateContent") and recorded Google traffic."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import orjson

ERRORS: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    ),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
}
BAD_KEY = "API key not valid. Please pass a valid API key."
NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)


def pretty(value: Any) -> bytes:
    """Google's JSON bodies are indented by two spaces."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)


def error_body(
    status: int, message: str = "", name: str = "", details: list[Any] | None = None
) -> bytes:
    default_name, default_message = ERRORS.get(status, ("UNKNOWN", "Unknown error."))
    error: dict[str, Any] = {
        "code": status,
        "message": message or default_message,
        "status": name or default_name,
    }
    if details:
        error["details"] = details
    return pretty({"error": error})


def bad_key_body() -> bytes:
    """What Google answers (HTTP 400) to a wrong API key."""
    return error_body(
        400,
        BAD_KEY,
        "INVALID_ARGUMENT",
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": BAD_KEY,
            },
        ],
    )


@dataclass
class Reply:
    model: str
    prompt_tokens: int
    text_pieces: list[str]
    finish_reason: str
    thoughts: str = ""
    thoughts_tokens: int = 0
    cached_tokens: int = 0
    # {"name", "args"}, or a list of them (parallel calls).
    function_call: dict[str, Any] | list[dict[str, Any]] | None = None
    response_id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    # The thought signature on the first function call ("" when the model did not think).
    signature: str = ""

    def usage(self, candidates: int, thoughts: int, final: bool) -> dict[str, Any]:
        counts: dict[str, Any] = {"promptTokenCount": self.prompt_tokens}
        if candidates or final:
            counts["candidatesTokenCount"] = candidates
        counts["totalTokenCount"] = self.prompt_tokens + candidates + thoughts
        if self.cached_tokens:
            counts["cachedContentTokenCount"] = self.cached_tokens
        counts["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": self.prompt_tokens}]
        if self.cached_tokens:
            counts["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": self.cached_tokens}]
        if thoughts:
            counts["thoughtsTokenCount"] = thoughts
        return counts

    def response(
        self, parts: list[dict[str, Any]], usage: dict[str, Any], final: bool
    ) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
        if final:
            candidate["finishReason"] = self.finish_reason
        candidate["index"] = 0
        return {
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": self.model,
            "responseId": self.response_id,
        }

    def _tail_parts(self) -> list[dict[str, Any]]:
        calls = self.function_call if isinstance(self.function_call, list) else [self.function_call]
        parts: list[dict[str, Any]] = [
            {"functionCall": {"name": call["name"], "args": call.get("args") or {}}}
            for call in calls
            if call
        ]
        if parts and self.signature:  # Gemini signs the first call of a thinking model's turn
            parts[0]["thoughtSignature"] = self.signature
        return parts

    def whole(self) -> dict[str, Any]:
        """The ``generateContent`` answer."""
        parts: list[dict[str, Any]] = []
        if self.thoughts:
            parts.append({"text": self.thoughts, "thought": True})
        if self.text_pieces:
            parts.append({"text": "".join(self.text_pieces)})
        parts += self._tail_parts()
        return self.response(
            parts, self.usage(len(self.text_pieces), self.thoughts_tokens, True), True
        )

    def chunks(self) -> list[dict[str, Any]]:
        """The ``streamGenerateContent`` answers: thoughts, then one text piece each, the last
        one with the function call, ``finishReason`` and the final usage."""
        out: list[dict[str, Any]] = []
        if self.thoughts:
            usage = self.usage(0, self.thoughts_tokens, False)
            out.append(self.response([{"text": self.thoughts, "thought": True}], usage, False))
        pieces = self.text_pieces or [""]
        for index, piece in enumerate(pieces):
            final = index == len(pieces) - 1
            parts = [{"text": piece}] if piece else []
            if final:
                parts += self._tail_parts()
            usage = self.usage(index + 1 if self.text_pieces else 0, self.thoughts_tokens, final)
            out.append(self.response(parts, usage, final))
        return out


def sse_frame(value: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(value) + b"\r\n\r\n"
