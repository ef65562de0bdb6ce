"""The Anthropic and Gemini fakes answer as the real APIs do where the adapters never go: raw
request checks, Google's array form of a stream, the control surface."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.gemini_upstream import FakeGemini

ANTHROPIC_KEY = "sk-ant-selftest"
GEMINI_KEY = "AIza-selftest"
HELLO = {"role": "user", "content": "hi there"}


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


def anthropic_headers(**extra: str) -> dict[str, str]:
    return {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01", **extra}


@pytest.mark.parametrize(
    ("headers", "body", "status", "kind", "message"),
    [
        ({"anthropic-version": "2023-06-01"}, {}, 401, "authentication_error", "invalid x-api-key"),
        (
            {"x-api-key": ANTHROPIC_KEY},
            {},
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
        ),
        (
            anthropic_headers(),
            {"model": "c", "messages": [HELLO]},
            400,
            "invalid_request_error",
            "max_tokens: Field required",
        ),
        (
            anthropic_headers(),
            {
                "model": "c",
                "max_tokens": 5,
                "messages": [{"role": "system", "content": "x"}, HELLO],
            },
            400,
            "invalid_request_error",
            "messages.0.role: Input should be 'user' or 'assistant'",
        ),
    ],
)
async def test_anthropic_rejects_what_anthropic_rejects(
    anthropic: FakeAnthropic,
    headers: dict[str, str],
    body: dict[str, object],
    status: int,
    kind: str,
    message: str,
) -> None:
    async with httpx.AsyncClient() as http:
        reply = await http.post(f"{anthropic.base_url}/messages", json=body, headers=headers)

    assert reply.status_code == status
    error = reply.json()
    assert error["type"] == "error"
    assert error["error"] == {"type": kind, "message": message}
    assert error["request_id"].startswith("req_")


async def test_anthropic_stream_is_framed_with_named_events(anthropic: FakeAnthropic) -> None:
    body = {"model": "claude-x", "max_tokens": 100, "messages": [HELLO], "stream": True}
    async with httpx.AsyncClient() as http:
        reply = await http.post(
            f"{anthropic.base_url}/messages", json=body, headers=anthropic_headers()
        )

    assert reply.headers["content-type"].startswith("text/event-stream")
    names = [line[7:] for line in reply.text.split("\n") if line.startswith("event: ")]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert "ping" in names and names.count("content_block_start") == names.count(
        "content_block_stop"
    )
    [recorded] = anthropic.requests
    assert recorded["authorized"] is True
    assert "x-api-key" not in {k.lower() for k in recorded["headers"]}


@pytest.mark.parametrize(
    ("headers", "status", "google_status"),
    [({}, 403, "PERMISSION_DENIED"), ({"x-goog-api-key": "AIza-wrong"}, 400, "INVALID_ARGUMENT")],
)
async def test_gemini_key_errors_have_googles_shape(
    gemini: FakeGemini, headers: dict[str, str], status: int, google_status: str
) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    async with httpx.AsyncClient() as http:
        reply = await http.post(
            f"{gemini.base_url}/models/gemini-2.5-flash:generateContent", json=body, headers=headers
        )

    assert reply.status_code == status
    error = reply.json()["error"]
    assert (error["code"], error["status"]) == (status, google_status)
    if status == 400:
        assert error["details"][0]["reason"] == "API_KEY_INVALID"


async def test_gemini_accepts_the_key_as_a_query_parameter_and_rejects_bad_roles(
    gemini: FakeGemini,
) -> None:
    body = {"contents": [{"role": "system", "parts": [{"text": "hi"}]}]}
    async with httpx.AsyncClient() as http:
        reply = await http.post(
            f"{gemini.base_url}/models/gemini-2.5-flash:generateContent",
            params={"key": GEMINI_KEY},
            json=body,
        )

    assert reply.status_code == 400
    assert reply.json()["error"]["message"] == "Please use a valid role: user, model."


async def test_gemini_stream_without_sse_is_a_json_array(gemini: FakeGemini) -> None:
    gemini.script(reply="one two three")
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    async with httpx.AsyncClient() as http:
        reply = await http.post(
            f"{gemini.base_url}/models/gemini-2.5-flash:streamGenerateContent",
            json=body,
            headers={"x-goog-api-key": GEMINI_KEY},
        )

    chunks = reply.json()
    assert isinstance(chunks, list) and len(chunks) == 3
    assert (
        "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)
        == "one two three"
    )
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] == 3


async def test_gemini_sse_events_end_with_crlf(gemini: FakeGemini) -> None:
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    async with httpx.AsyncClient() as http:
        reply = await http.post(
            f"{gemini.base_url}/models/gemini-2.5-flash:streamGenerateContent",
            params={"alt": "sse"},
            json=body,
            headers={"x-goog-api-key": GEMINI_KEY},
        )

    assert reply.headers["content-type"] == "text/event-stream"
    events = [e for e in reply.content.split(b"\r\n\r\n") if e]
    assert len(events) == 2 and all(e.startswith(b"data: {") for e in events)


async def test_the_control_surface_scripts_records_and_resets(anthropic: FakeAnthropic) -> None:
    body = {"model": "c", "max_tokens": 50, "messages": [HELLO]}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{anthropic.port}") as http:
        await http.post("/_fake/script", json={"status": 429, "times": 2})
        statuses = [
            (await http.post("/v1/messages", json=body, headers=anthropic_headers())).status_code
            for _ in range(3)
        ]
        recorded = (await http.get("/_fake/requests")).json()["requests"]
        await http.post("/_fake/reset")
        after = (await http.get("/_fake/requests")).json()["requests"]

    assert statuses == [429, 429, 200]
    assert len(recorded) == 3 and recorded[0]["body"] == body
    assert after == []
