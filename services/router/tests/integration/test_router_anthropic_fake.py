"""The Anthropic adapter over real HTTP against the fake Anthropic upstream (which speaks the
Messages wire protocol, JSON and SSE): what goes up, what comes back, how failures look."""

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
from tollgate_router.providers.anthropic import AnthropicMessagesAdapter
from tollgate_router.providers.http_client import HttpClient

from tests.fakes.anthropic_upstream import FakeAnthropic

KEY = "sk-ant-adapter-tests"


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    upstream = FakeAnthropic(KEY)
    await upstream.start()
    yield upstream
    await upstream.stop()


@pytest.fixture
async def adapter() -> AsyncIterator[AnthropicMessagesAdapter]:
    async with HttpClient() as session:
        yield AnthropicMessagesAdapter(session)


def call(
    fake: FakeAnthropic,
    stream: bool,
    *,
    key: str = KEY,
    headers: dict[str, str] | None = None,
    params: GenerationParams | None = None,
) -> UpstreamCall:
    return UpstreamCall(
        base_url=fake.base_url,
        api_key=key,
        provider_model_id="claude-sonnet-4-20250514",
        messages=(Message("system", "Be brief."), Message("user", "hello there claude")),
        params=params or GenerationParams(),
        stream=stream,
        max_output_tokens=64000,
        provider_headers=headers or {},
    )


async def collect(
    adapter: AnthropicMessagesAdapter, upstream_call: UpstreamCall
) -> list[ProviderEvent]:
    stream = await adapter.open(upstream_call)
    try:
        return [event async for event in stream.events()]
    finally:
        await stream.aclose()


@pytest.mark.parametrize("stream", [False, True])
async def test_a_reply_with_cache_tokens_in_both_forms(
    fake: FakeAnthropic, adapter: AnthropicMessagesAdapter, stream: bool
) -> None:
    fake.script(cache_read_tokens=100, cache_write_tokens=20)

    events = await collect(adapter, call(fake, stream))

    assert isinstance(events[0], ResponseStart) and events[0].response_id.startswith("msg_")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Echo: hello there claude"
    assert [e for e in events if isinstance(e, FinishReason)] == [FinishReason("stop")]
    # 5 uncached prompt words + 100 read + 20 written; 4 reply words.
    assert [e for e in events if isinstance(e, UsageReport)][-1] == UsageReport(
        125, 4, 129, cached_tokens=100, cache_write_tokens=20
    )
    [sent] = fake.requests
    assert sent["body"]["system"] == [{"type": "text", "text": "Be brief."}]
    assert sent["body"]["max_tokens"] == 64000
    assert sent["headers"]["anthropic-version"] == "2023-06-01"
    assert "x-api-key" not in {k.lower() for k in sent["headers"]}


async def test_anthropic_beta_reaches_anthropic(
    fake: FakeAnthropic, adapter: AnthropicMessagesAdapter
) -> None:
    await collect(adapter, call(fake, True, headers={"anthropic-beta": "context-1m-2025-08-07"}))

    [sent] = fake.requests
    assert sent["headers"]["anthropic-beta"] == "context-1m-2025-08-07"


@pytest.mark.parametrize("stream", [False, True])
async def test_thinking_and_tool_use_arrive_as_typed_events(
    fake: FakeAnthropic, adapter: AnthropicMessagesAdapter, stream: bool
) -> None:
    fake.script(
        reply="Checking.",
        thinking="I should look it up",
        tool_use={"name": "get_weather", "input": {"city": "Paris"}},
    )

    events = await collect(adapter, call(fake, stream))

    reasoning = [e for e in events if isinstance(e, ReasoningDelta)]
    assert "".join(e.text for e in reasoning) == "I should look it up"
    assert any(e.signature for e in reasoning)
    tools = [e for e in events if isinstance(e, ToolCallDelta)]
    assert tools[0].id.startswith("toolu_") and tools[0].name == "get_weather"
    assert "".join(e.arguments for e in tools) == '{"city":"Paris"}'
    assert FinishReason("tool_calls") in events
    usage = [e for e in events if isinstance(e, UsageReport)][-1]
    assert usage.completion_tokens == 1 + 5  # the reply word and the thinking words


async def test_max_tokens_truncates_with_length(
    fake: FakeAnthropic, adapter: AnthropicMessagesAdapter
) -> None:
    events = await collect(adapter, call(fake, True, params=GenerationParams(max_tokens=2)))

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Echo: hello"
    assert FinishReason("length") in events


@pytest.mark.parametrize("stream", [False, True])
async def test_a_wrong_key_is_a_401_authentication_error(
    fake: FakeAnthropic, adapter: AnthropicMessagesAdapter, stream: bool
) -> None:
    with pytest.raises(ProviderError) as raised:
        await adapter.open(call(fake, stream, key="sk-ant-wrong"))

    assert (raised.value.status, raised.value.code) == (401, "authentication_error")
    assert raised.value.message == "invalid x-api-key"


async def test_an_overload_right_after_message_start_fails_before_the_first_event(
    fake: FakeAnthropic, adapter: AnthropicMessagesAdapter
) -> None:
    """The router awaits the first event before committing: it must be the failure."""
    fake.script(error_after_start=529)
    stream = await adapter.open(call(fake, True))
    events = stream.events()

    with pytest.raises(ProviderError) as raised:
        await anext(events)
    await events.aclose()
    await stream.aclose()
    assert raised.value.code == "overloaded_error"


async def test_an_http_529_is_an_overloaded_provider(
    fake: FakeAnthropic, adapter: AnthropicMessagesAdapter
) -> None:
    fake.script(status=529)

    with pytest.raises(ProviderError) as raised:
        await adapter.open(call(fake, True))

    assert (raised.value.status, raised.value.code) == (529, "overloaded_error")


async def test_a_stream_cut_mid_way_is_an_error_not_a_clean_end(
    fake: FakeAnthropic, adapter: AnthropicMessagesAdapter
) -> None:
    fake.script(break_after_chunks=3)
    stream = await adapter.open(call(fake, True))
    seen: list[ProviderEvent] = []

    async def read() -> None:
        async for event in stream.events():
            seen.append(event)

    with pytest.raises(ProviderError) as raised:
        await read()
    await stream.aclose()

    assert raised.value.status == 0
    assert any(isinstance(e, TextDelta) for e in seen)
