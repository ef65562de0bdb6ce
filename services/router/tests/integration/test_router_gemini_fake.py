"""The Gemini adapter over real HTTP against the fake Gemini upstream (which speaks the Gemini
API wire protocol, JSON and SSE): what goes up, what comes back, how failures look."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tollgate_router.domain import GenerationParams, Message
from tollgate_router.events import (
    FinishReason,
    ProviderEvent,
    ReasoningDelta,
    ResponseStart,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from tollgate_router.providers import ProviderError, UpstreamCall
from tollgate_router.providers.gemini import GeminiAdapter
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.routing.planning import falls_back, passes_through

from tests.fakes.gemini_upstream import FakeGemini

KEY = "AIza-adapter-tests"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGemini]:
    upstream = FakeGemini(KEY)
    await upstream.start()
    yield upstream
    await upstream.stop()


@pytest.fixture
async def adapter() -> AsyncIterator[GeminiAdapter]:
    async with HttpClient() as session:
        yield GeminiAdapter(session)


def call(
    fake: FakeGemini,
    stream: bool,
    *,
    key: str = KEY,
    params: GenerationParams | None = None,
) -> UpstreamCall:
    return UpstreamCall(
        base_url=fake.base_url,
        api_key=key,
        provider_model_id="gemini-2.5-flash",
        messages=(Message("system", "Be brief."), Message("user", "hello there gemini")),
        params=params or GenerationParams(),
        stream=stream,
        provider_headers={"anthropic-beta": "context-1m-2025-08-07"},
    )


async def collect(adapter: GeminiAdapter, upstream_call: UpstreamCall) -> list[ProviderEvent]:
    stream = await adapter.open(upstream_call)
    try:
        return [event async for event in stream.events()]
    finally:
        await stream.aclose()


@pytest.mark.parametrize("stream", [False, True])
async def test_a_reply_with_thoughts_and_cache_in_both_forms(
    fake: FakeGemini, adapter: GeminiAdapter, stream: bool
) -> None:
    fake.script(thoughts="Let me think", thoughts_tokens=30, cached_tokens=100)

    events = await collect(adapter, call(fake, stream))

    assert isinstance(events[0], ResponseStart) and events[0].model == "gemini-2.5-flash"
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Echo: hello there gemini"
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "Let me think"
    assert [e for e in events if isinstance(e, FinishReason)] == [FinishReason("stop")]
    # 5 prompt words + 100 cached; 4 reply words + 30 thought tokens.
    assert [e for e in events if isinstance(e, UsageReport)][-1] == UsageReport(
        105, 34, 139, cached_tokens=100, reasoning_tokens=30
    )
    [sent] = fake.requests
    expected_path = ":streamGenerateContent" if stream else ":generateContent"
    assert sent["path"] == f"/v1beta/models/gemini-2.5-flash{expected_path}"
    assert sent["query"] == ({"alt": "sse"} if stream else {})
    assert sent["body"]["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    headers = {k.lower() for k in sent["headers"]}
    assert "x-goog-api-key" not in headers and "anthropic-beta" not in headers


@pytest.mark.parametrize("stream", [False, True])
async def test_a_function_call_arrives_as_a_tool_call(
    fake: FakeGemini, adapter: GeminiAdapter, stream: bool
) -> None:
    fake.script(reply="", function_call={"name": "get_weather", "args": {"city": "Paris"}})

    events = await collect(adapter, call(fake, stream))

    [tool] = [e for e in events if isinstance(e, ToolCallDelta)]
    assert (tool.index, tool.name, tool.arguments) == (0, "get_weather", '{"city":"Paris"}')
    assert tool.id.startswith("call_")
    assert FinishReason("tool_calls") in events


async def test_max_output_tokens_truncates_with_length(
    fake: FakeGemini, adapter: GeminiAdapter
) -> None:
    events = await collect(adapter, call(fake, True, params=GenerationParams(max_tokens=2)))

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Echo: hello"
    assert FinishReason("length") in events


@pytest.mark.parametrize("stream", [False, True])
async def test_a_wrong_key_is_a_credential_failure(
    fake: FakeGemini, adapter: GeminiAdapter, stream: bool
) -> None:
    with pytest.raises(ProviderError) as raised:
        await adapter.open(call(fake, stream, key="AIza-wrong"))

    error = raised.value
    assert (error.status, error.code) == (401, "INVALID_ARGUMENT")
    assert falls_back(error) and not passes_through(error)


async def test_a_missing_key_is_permission_denied(fake: FakeGemini, adapter: GeminiAdapter) -> None:
    with pytest.raises(ProviderError) as raised:
        await adapter.open(call(fake, False, key=""))

    assert (raised.value.status, raised.value.code) == (403, "PERMISSION_DENIED")


async def test_an_overloaded_model_is_a_503(fake: FakeGemini, adapter: GeminiAdapter) -> None:
    fake.script(status=503)

    with pytest.raises(ProviderError) as raised:
        await adapter.open(call(fake, True))

    assert (raised.value.status, raised.value.code) == (503, "UNAVAILABLE")
    assert falls_back(raised.value)


async def test_a_stream_cut_before_the_finish_is_an_error(
    fake: FakeGemini, adapter: GeminiAdapter
) -> None:
    fake.script(break_after_chunks=2)
    stream = await adapter.open(call(fake, True))

    async def read() -> None:
        async for _ in stream.events():
            pass

    with pytest.raises(ProviderError) as raised:
        await read()
    await stream.aclose()

    assert raised.value.status == 0
