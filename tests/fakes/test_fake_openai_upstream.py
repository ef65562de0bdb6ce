"""The fake upstream as the official OpenAI SDK sees it (so tests built on it test real shapes)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import openai
import pytest

from tests.fakes.openai_upstream import FakeOpenAI

KEY = "sk-fake-selftest"


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    upstream = FakeOpenAI(KEY)
    await upstream.start()
    yield upstream
    await upstream.stop()


def client(fake: FakeOpenAI, key: str = KEY) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake.base_url, api_key=key, max_retries=0)


async def test_json_completion(fake: FakeOpenAI) -> None:
    completion = await client(fake).chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi you"},
        ],
    )

    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "gpt-4o-mini"
    assert completion.choices[0].message.content == "Echo: hi you"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (4, 3)
    assert completion.system_fingerprint


async def test_stream_with_usage_chunk(fake: FakeOpenAI) -> None:
    fake.script(cached_tokens=1, reasoning_tokens=2)
    stream = await client(fake).chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "one two"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]

    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: one two"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (2, 5, 7)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 1
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 2
    assert all(c.usage is None for c in chunks[:-1])


async def test_max_tokens_truncates(fake: FakeOpenAI) -> None:
    completion = await client(fake).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "a b c d"}], max_tokens=2
    )

    assert completion.choices[0].message.content == "Echo: a"
    assert completion.choices[0].finish_reason == "length"


async def test_errors_use_the_openai_envelope(fake: FakeOpenAI) -> None:
    with pytest.raises(openai.AuthenticationError) as unauthorized:
        await client(fake, "sk-wrong").chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )
    assert unauthorized.value.code == "invalid_api_key"

    fake.script(status=503)
    with pytest.raises(openai.InternalServerError) as overloaded:
        await client(fake).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )
    assert overloaded.value.status_code == 503

    with pytest.raises(openai.BadRequestError):
        await client(fake).chat.completions.create(model="m", messages=[])


async def test_a_cut_stream_fails_in_the_client(fake: FakeOpenAI) -> None:
    fake.script(break_after_chunks=1)
    stream = await client(fake).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "a b c d"}], stream=True
    )

    with pytest.raises(openai.APIError):
        async for _ in stream:
            pass


async def test_control_surface_over_http(fake: FakeOpenAI) -> None:
    root = f"http://127.0.0.1:{fake.port}"
    async with aiohttp.ClientSession() as http:
        await http.post(f"{root}/_fake/script", json={"reply": "scripted", "times": 2})
        for _ in range(3):
            await client(fake).chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )
        async with http.get(f"{root}/_fake/requests") as reply:
            recorded = (await reply.json())["requests"]
        await http.post(f"{root}/_fake/reset")

    assert len(recorded) == 3
    assert all(r["authorized"] for r in recorded)
    assert all("authorization" not in {k.lower() for k in r["headers"]} for r in recorded)
    assert recorded[0]["body"]["model"] == "m"
    assert len(fake.requests) == 0
