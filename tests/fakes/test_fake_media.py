"""The fakes' media behaviour, as the real APIs behave: Anthropic validates ``image`` /
``document`` blocks; Gemini image models draw ``inlineData`` PNGs when
``responseModalities`` holds IMAGE (counted as IMAGE candidate tokens), other models refuse."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.gemini_bodies import IMAGE_TOKENS, PNG_BASE64
from tests.fakes.gemini_upstream import FakeGemini

ANTHROPIC_KEY = "sk-ant-selftest"
GEMINI_KEY = "AIza-selftest"
DRAW = {
    "contents": [{"role": "user", "parts": [{"text": "draw"}]}],
    "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]},
}


@pytest.fixture
async def anthropic() -> AsyncIterator[FakeAnthropic]:
    fake = FakeAnthropic(ANTHROPIC_KEY)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def gemini() -> AsyncIterator[FakeGemini]:
    fake = FakeGemini(GEMINI_KEY)
    await fake.start()
    yield fake
    await fake.stop()


def anthropic_body(block: dict[str, Any]) -> dict[str, Any]:
    content = [{"type": "text", "text": "look"}, block]
    return {"model": "c", "max_tokens": 50, "messages": [{"role": "user", "content": content}]}


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/bmp", "data": "Qk0="},
            },
            "messages.0.content.1.image.source.base64.media_type: Input should be 'image/jpeg' "
            "or 'image/png' or 'image/gif' or 'image/webp'",
        ),
        (
            {
                "type": "document",
                "source": {"type": "base64", "media_type": "application/msword", "data": "0M8="},
            },
            "messages.0.content.1.document.source.base64.media_type: Input should be "
            "'application/pdf'",
        ),
        (
            {"type": "image", "source": {"type": "file", "file_id": "f"}},
            "messages.0.content.1.image.source: Input tag 'file' found using 'type' does not match",
        ),
    ],
)
async def test_anthropic_rejects_media_it_does_not_take(
    anthropic: FakeAnthropic, block: dict[str, Any], message: str
) -> None:
    headers = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
    async with httpx.AsyncClient() as http:
        reply = await http.post(
            f"{anthropic.base_url}/messages", json=anthropic_body(block), headers=headers
        )

    assert reply.status_code == 400
    assert reply.json()["error"] == {"type": "invalid_request_error", "message": message}


async def test_anthropic_takes_pngs_pdfs_and_urls(anthropic: FakeAnthropic) -> None:
    headers = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
    blocks = [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": PNG_BASE64},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}},
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
        },
    ]
    async with httpx.AsyncClient() as http:
        for block in blocks:
            reply = await http.post(
                f"{anthropic.base_url}/messages", json=anthropic_body(block), headers=headers
            )
            assert reply.status_code == 200, reply.text


async def test_a_gemini_image_model_draws_inline_pngs(gemini: FakeGemini) -> None:
    gemini.script(reply="two squares", images=2)
    async with httpx.AsyncClient() as http:
        reply = await http.post(
            f"{gemini.base_url}/models/gemini-2.5-flash-image:generateContent",
            json=DRAW,
            headers={"x-goog-api-key": GEMINI_KEY},
        )

    answer = reply.json()
    parts = answer["candidates"][0]["content"]["parts"]
    assert parts[0] == {"text": "two squares"}
    assert parts[1:] == [{"inlineData": {"mimeType": "image/png", "data": PNG_BASE64}}] * 2
    assert base64.b64decode(PNG_BASE64).startswith(b"\x89PNG")
    usage = answer["usageMetadata"]
    assert usage["candidatesTokenCount"] == 2 + 2 * IMAGE_TOKENS
    assert usage["candidatesTokensDetails"] == [
        {"modality": "TEXT", "tokenCount": 2},
        {"modality": "IMAGE", "tokenCount": 2 * IMAGE_TOKENS},
    ]


async def test_a_streamed_image_comes_whole_in_its_own_event(gemini: FakeGemini) -> None:
    async with httpx.AsyncClient() as http:
        reply = await http.post(
            f"{gemini.base_url}/models/gemini-2.5-flash-image:streamGenerateContent",
            params={"alt": "sse"},
            json={**DRAW, "generationConfig": {"responseModalities": ["IMAGE"]}},
            headers={"x-goog-api-key": GEMINI_KEY},
        )

    events = [orjson.loads(e[6:]) for e in reply.content.split(b"\r\n\r\n") if e]
    [only] = events  # no text asked for: the image alone, with the finish and usage
    assert only["candidates"][0]["content"]["parts"] == [
        {"inlineData": {"mimeType": "image/png", "data": PNG_BASE64}}
    ]
    assert only["candidates"][0]["finishReason"] == "STOP"
    assert only["usageMetadata"]["candidatesTokenCount"] == IMAGE_TOKENS


async def test_a_gemini_text_model_refuses_image_output(gemini: FakeGemini) -> None:
    async with httpx.AsyncClient() as http:
        reply = await http.post(
            f"{gemini.base_url}/models/gemini-2.5-flash:generateContent",
            json=DRAW,
            headers={"x-goog-api-key": GEMINI_KEY},
        )

    assert reply.status_code == 400
    assert reply.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "response modalities" in reply.json()["error"]["message"]
