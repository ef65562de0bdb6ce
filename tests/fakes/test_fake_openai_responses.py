"""The fake OpenAI's Responses API (``POST /v1/responses``) as the official OpenAI SDK sees it:
its response objects and its semantic events parse into the SDK's types, its stream
accumulates with the SDK's own ``responses.stream()`` helper, and it refuses what OpenAI
refuses around function call outputs and reasoning items."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from tests.fakes.openai_upstream import FakeOpenAI

KEY = "sk-fake-selftest"
TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    upstream = FakeOpenAI(KEY)
    await upstream.start()
    yield upstream
    await upstream.stop()


def client(fake: FakeOpenAI) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0)


async def test_a_response_object_with_reasoning_and_usage(fake: FakeOpenAI) -> None:
    fake.script(reasoning_tokens=5, reasoning_summary="Hmm.", cached_tokens=1)

    response = await client(fake).responses.create(
        model="gpt-5",
        instructions="Be brief.",
        input="hi you",
        reasoning={"effort": "low", "summary": "auto"},
        include=["reasoning.encrypted_content"],
        store=False,
    )

    assert response.id.startswith("resp_") and response.status == "completed"
    assert [item.type for item in response.output] == ["reasoning", "message"]
    reasoning = response.output[0]
    assert reasoning.type == "reasoning" and reasoning.encrypted_content
    assert [s.text for s in reasoning.summary] == ["Hmm."]
    assert response.output_text == "Echo: hi you"
    usage = response.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (4, 3 + 5, 12)
    assert usage.input_tokens_details.cached_tokens == 1
    assert usage.output_tokens_details.reasoning_tokens == 5
    assert fake.requests[-1]["path"] == "/v1/responses"


async def test_a_stream_accumulates_with_the_sdks_helper(fake: FakeOpenAI) -> None:
    fake.script(
        reasoning_tokens=2, tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}]
    )

    async with client(fake).responses.stream(
        model="gpt-5",
        input="weather?",
        tools=[TOOL],
        reasoning={"effort": "low", "summary": "auto"},
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()

    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in kinds
    assert "response.function_call_arguments.done" in kinds
    assert [item.type for item in final.output] == ["reasoning", "function_call"]
    call = final.output[1]
    assert call.type == "function_call" and call.arguments == '{"city":"Paris"}'


async def test_the_output_limit_makes_it_incomplete(fake: FakeOpenAI) -> None:
    fake.script(reply=" ".join(["word"] * 20))
    response = await client(fake).responses.create(
        model="gpt-5", input="one two", max_output_tokens=16
    )

    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == " ".join(["word"] * 16)
    with pytest.raises(openai.BadRequestError) as too_small:  # OpenAI's minimum
        await client(fake).responses.create(model="gpt-5", input="hi", max_output_tokens=2)
    assert too_small.value.param == "max_output_tokens"


async def test_reasoning_items_must_come_back_as_issued(fake: FakeOpenAI) -> None:
    fake.script(reasoning_tokens=3)
    api = client(fake)
    first = await api.responses.create(
        model="gpt-5",
        input="hi",
        reasoning={"effort": "low"},
        include=["reasoning.encrypted_content"],
        store=False,
    )
    item = first.output[0].model_dump(exclude_none=True)
    follow: Any = [{"role": "user", "content": "hi"}, item, {"role": "user", "content": "and?"}]

    again = await api.responses.create(model="gpt-5", input=follow, store=False)
    assert again.output_text == "Echo: and?"

    follow[1] = {**item, "encrypted_content": "gAAAAABforged"}
    with pytest.raises(openai.BadRequestError) as forged:
        await api.responses.create(model="gpt-5", input=follow, store=False)
    assert forged.value.code == "invalid_encrypted_content"
    follow[1] = {k: v for k, v in item.items() if k != "encrypted_content"}
    with pytest.raises(openai.NotFoundError):
        await api.responses.create(model="gpt-5", input=follow, store=False)


async def test_refusals_as_openai_refuses(fake: FakeOpenAI) -> None:
    api = client(fake)
    orphan: Any = [{"type": "function_call_output", "call_id": "call_x", "output": "1"}]
    with pytest.raises(openai.BadRequestError) as no_call:
        await api.responses.create(model="gpt-5", input=orphan)
    assert no_call.value.param == "input"
    with pytest.raises(openai.BadRequestError) as unknown:
        await api.responses.create(model="gpt-5", input="hi", extra_body={"messages": []})
    assert unknown.value.param == "messages"
