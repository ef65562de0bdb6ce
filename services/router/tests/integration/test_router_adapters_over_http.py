"""The provider adapters over real HTTP: the chat adapter against a server replaying a recorded
OpenAI stream, the embedding adapters against the fake provider that speaks their API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from tollgate_router.domain import GenerationParams, Message
from tollgate_router.events import ResponseStart, TextDelta, UsageReport
from tollgate_router.providers import EmbeddingCall, ProviderError, UpstreamCall
from tollgate_router.providers import gemini_embeddings as gemini
from tollgate_router.providers import openai_embeddings as openai
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.providers.openai_chat import OpenAIChatAdapter

from tests.fakes.embedding_vectors import fake_vector
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.openai_upstream import FakeOpenAI

# The recorded responses of the unit tests.
FIXTURES = Path(__file__).parents[1] / "unit" / "fixtures"
RECORDED_STREAM = (FIXTURES / "openai_chat_stream.sse").read_bytes()
RECORDED_TEXT = "**Holiday Name:** Harmony Day\n\n"


def embedding_call(*inputs: str, **kwargs: object) -> EmbeddingCall:
    fields: dict[str, object] = {
        "api_key": "sk-secret",
        "provider_model_id": "text-embedding-3-small",
        "inputs": inputs,
    }
    fields.update(kwargs)
    return EmbeddingCall(**fields)  # type: ignore[arg-type]


@pytest.fixture
async def session() -> AsyncIterator[HttpClient]:
    async with HttpClient() as opened:
        yield opened


async def _recorded_upstream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
    await response.prepare(request)
    for start in range(0, len(RECORDED_STREAM), 97):
        await response.write(RECORDED_STREAM[start : start + 97])
    await response.write_eof()
    return response


@pytest.fixture
async def upstream_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", _recorded_upstream)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    await runner.cleanup()


async def test_adapter_streams_a_recorded_response_over_http(
    upstream_url: str, session: HttpClient
) -> None:
    adapter = OpenAIChatAdapter(session)
    messages = (Message("user", "hi"),)
    stream = await adapter.open(
        UpstreamCall(upstream_url, "k", "m", messages, GenerationParams(), True)
    )
    events = [e async for e in stream.events()]
    await stream.aclose()

    assert isinstance(events[0], ResponseStart)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == RECORDED_TEXT
    assert isinstance(events[-1], UsageReport)


async def test_openai_adapter_against_the_fake(session: HttpClient) -> None:
    fake = FakeOpenAI("sk-right")
    await fake.start()
    try:
        adapter = openai.OpenAIEmbeddingsAdapter(session)
        result = await adapter.embed(
            embedding_call(
                "one two", "three", base_url=fake.base_url, api_key="sk-right", dimensions=8
            )
        )
        assert result.vectors == (
            tuple(fake_vector("one two", 8)),
            tuple(fake_vector("three", 8)),
        )
        assert result.input_tokens == 3
        with pytest.raises(ProviderError) as rejected:
            await adapter.embed(embedding_call("x", base_url=fake.base_url, api_key="sk-wrong"))
        assert rejected.value.status == 401
    finally:
        await fake.stop()


async def test_gemini_adapter_batches_by_100(session: HttpClient) -> None:
    fake = FakeGemini("AIza-right")
    await fake.start()
    try:
        texts = tuple(f"text number {i}" for i in range(150))
        result = await gemini.GeminiEmbeddingsAdapter(session).embed(
            embedding_call(
                *texts,
                base_url=fake.base_url,
                api_key="AIza-right",
                provider_model_id="gemini-embedding-001",
                dimensions=4,
            )
        )
        assert result.vectors == tuple(tuple(fake_vector(t, 4)) for t in texts)
        assert [len(r["body"]["requests"]) for r in fake.requests] == [100, 50]
        assert all("x-goog-api-key" not in r["headers"] for r in fake.requests)
    finally:
        await fake.stop()
