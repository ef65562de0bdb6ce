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
# A 1x1 PNG: what the fake "generates" when asked for images.
PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
# Tokens Gemini counts for one generated image (1024x1024), as its pricing page states.
IMAGE_TOKENS = 1290
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
    # Base64 PNGs the model generated (``responseModalities`` with IMAGE).
    images: list[str] = field(default_factory=list)

    def usage(self, candidates: int, thoughts: int, final: bool, images: int = 0) -> dict[str, Any]:
        counts: dict[str, Any] = {"promptTokenCount": self.prompt_tokens}
        image_tokens = images * IMAGE_TOKENS
        if candidates or final or images:
            counts["candidatesTokenCount"] = candidates + image_tokens
        counts["totalTokenCount"] = self.prompt_tokens + candidates + image_tokens + thoughts
        if self.cached_tokens:
            counts["cachedContentTokenCount"] = self.cached_tokens
        counts["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": self.prompt_tokens}]
        if self.cached_tokens:
            counts["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": self.cached_tokens}]
        if thoughts:
            counts["thoughtsTokenCount"] = thoughts
        if images:
            counts["candidatesTokensDetails"] = [
                {"modality": "TEXT", "tokenCount": candidates},
                {"modality": "IMAGE", "tokenCount": image_tokens},
            ]
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
        parts += [_image_part(image) for image in self.images]
        parts += self._tail_parts()
        usage = self.usage(len(self.text_pieces), self.thoughts_tokens, True, len(self.images))
        return self.response(parts, usage, True)

    def chunks(self) -> list[dict[str, Any]]:
        """The ``streamGenerateContent`` answers: thoughts, then one text piece each, then one
        whole image each; the last one with the function call, ``finishReason`` and the final
        usage."""
        out: list[dict[str, Any]] = []
        if self.thoughts:
            usage = self.usage(0, self.thoughts_tokens, False)
            out.append(self.response([{"text": self.thoughts, "thought": True}], usage, False))
        units: list[dict[str, Any]] = [{"text": piece} for piece in self.text_pieces]
        units += [_image_part(image) for image in self.images]
        units = units or [{}]
        texts = images = 0
        for index, unit in enumerate(units):
            final = index == len(units) - 1
            texts += "text" in unit
            images += "inlineData" in unit
            parts = [unit] if unit else []
            if final:
                parts += self._tail_parts()
            usage = self.usage(texts, self.thoughts_tokens, final, images)
            out.append(self.response(parts, usage, final))
        return out


def _image_part(data: str) -> dict[str, Any]:
    return {"inlineData": {"mimeType": "image/png", "data": data}}


def sse_frame(value: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(value) + b"\r\n\r\n"
