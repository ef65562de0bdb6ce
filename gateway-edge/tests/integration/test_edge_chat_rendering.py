"""Tool calls and reasoning as the edge renders them, read with the official openai SDK (a fake
router scripts the events): OpenAI's ``tool_calls`` shapes streaming and not, ``reasoning`` and
``reasoning_details``, and ``reasoning.exclude``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from tollgate.router.v1 import router_pb2

Edge = Any
Event = router_pb2.StreamGenerateResponse

pytestmark = pytest.mark.asyncio

USER = [{"role": "user", "content": "weather in Paris and Rome?"}]
CLAUDE = "anthropic-claude-v1"


def tool(index: int, id: str = "", name: str = "", arguments: str = "") -> Event:
    return Event(
        tool_call_delta=router_pb2.ToolCallDelta(index=index, id=id, name=name, arguments=arguments)
    )


def thought(text: str = "", signature: str = "", data: str = "", format: str = CLAUDE) -> Event:
    return Event(
        reasoning_delta=router_pb2.ReasoningDelta(
            text=text, signature=signature, data=data, format=format
        )
    )


def finished(reason: str) -> Event:
    return Event(finished=router_pb2.GenerationFinished(finish_reason=reason))


def usage(reasoning: int = 0) -> Event:
    return Event(
        usage=router_pb2.Usage(
            input_tokens=10, output_tokens=30, total_tokens=40, reasoning_tokens=reasoning
        )
    )


PARALLEL_CALLS = [
    tool(0, "call_a", "get_weather", ""),
    tool(0, arguments='{"city":'),
    tool(1, "call_b", "get_weather", '{"city":"Rome"}'),
    tool(0, arguments='"Paris"}'),
    usage(),
    finished("tool_calls"),
]
THINKING = [
    thought("Let me "),
    thought("think."),
    thought(signature="sig-1"),
    thought(data="opaque-blob"),
    Event(text_delta=router_pb2.TextDelta(text="Sunny.")),
    usage(reasoning=12),
    finished("stop"),
]


@pytest.fixture
async def client(edge: Edge) -> AsyncIterator[openai.AsyncOpenAI]:
    edge.fakes.router.scripted.update({"test/tools": PARALLEL_CALLS, "test/thinking": THINKING})
    async with openai.AsyncOpenAI(
        base_url=f"{edge.url}/v1", api_key="x", default_headers=edge.headers, max_retries=0
    ) as api:
        yield api


async def test_tool_calls_without_streaming(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(model="test/tools", messages=USER)

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert calls is not None
    assert [(c.id, c.type, c.function.name, c.function.arguments) for c in calls] == [  # type: ignore[union-attr]
        ("call_a", "function", "get_weather", '{"city":"Paris"}'),
        ("call_b", "function", "get_weather", '{"city":"Rome"}'),
    ]


async def test_streamed_tool_calls_are_framed_like_openai(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(model="test/tools", messages=USER, stream=True)
    chunks = [chunk async for chunk in stream]

    pieces = [
        c.choices[0].delta.tool_calls[0]
        for c in chunks
        if c.choices and c.choices[0].delta.tool_calls
    ]
    first = pieces[0]
    assert (first.index, first.id, first.type) == (0, "call_a", "function")
    assert first.function is not None
    assert (first.function.name, first.function.arguments) == ("get_weather", "")
    following = pieces[1]
    assert following.index == 0 and following.id is None and following.type is None
    assert following.function is not None and following.function.name is None
    assert following.function.arguments == '{"city":'
    assert [p.index for p in pieces] == [0, 0, 1, 0]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"

    # What a client accumulates by index is what the model called.
    calls: dict[int, dict[str, str]] = {}
    for piece in pieces:
        call = calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
        call["id"] += piece.id or ""
        call["name"] += (piece.function.name if piece.function else None) or ""
        call["arguments"] += (piece.function.arguments if piece.function else None) or ""
    assert calls == {
        0: {"id": "call_a", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        1: {"id": "call_b", "name": "get_weather", "arguments": '{"city":"Rome"}'},
    }


async def test_reasoning_without_streaming(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(model="test/thinking", messages=USER)

    message = completion.choices[0].message
    assert message.content == "Sunny."
    extra: dict[str, Any] = message.model_extra or {}
    assert extra["reasoning"] == "Let me think."
    assert extra["reasoning_details"] == [
        {"type": "reasoning.text", "text": "Let me think.", "format": CLAUDE, "signature": "sig-1"},
        {"type": "reasoning.encrypted", "data": "opaque-blob", "format": CLAUDE},
    ]
    assert completion.usage is not None
    details = completion.usage.completion_tokens_details
    assert details is not None and details.reasoning_tokens == 12


async def test_streamed_reasoning(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(model="test/thinking", messages=USER, stream=True)
    deltas = [c.choices[0].delta.model_extra or {} async for c in stream if c.choices]

    assert "".join(d.get("reasoning") or "" for d in deltas) == "Let me think."
    details = [detail for d in deltas for detail in d.get("reasoning_details") or ()]
    assert details == [
        {"type": "reasoning.text", "format": CLAUDE, "index": 0, "text": "Let me "},
        {"type": "reasoning.text", "format": CLAUDE, "index": 0, "text": "think."},
        {"type": "reasoning.text", "format": CLAUDE, "index": 0, "signature": "sig-1"},
        {"type": "reasoning.encrypted", "data": "opaque-blob", "format": CLAUDE, "index": 1},
    ]


@pytest.mark.parametrize("stream", [False, True])
async def test_excluded_reasoning_is_left_out(client: openai.AsyncOpenAI, stream: bool) -> None:
    body: dict[str, Any] = {"reasoning": {"effort": "high", "exclude": True}}
    if not stream:
        completion = await client.chat.completions.create(
            model="test/thinking", messages=USER, extra_body=body
        )
        extra = completion.choices[0].message.model_extra or {}
        assert completion.choices[0].message.content == "Sunny."
        assert "reasoning" not in extra and "reasoning_details" not in extra
        return
    chunks = await client.chat.completions.create(
        model="test/thinking", messages=USER, stream=True, extra_body=body
    )
    deltas = [c.choices[0].delta async for c in chunks if c.choices]
    assert "".join(d.content or "" for d in deltas) == "Sunny."
    assert not any("reasoning" in (d.model_extra or {}) for d in deltas)
    assert not any("reasoning_details" in (d.model_extra or {}) for d in deltas)
