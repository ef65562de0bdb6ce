"""Reasoning through the whole suite with the official openai SDK: the request's ``reasoning``
reaches each provider as its own setting (OpenAI ``reasoning_effort``, Anthropic ``thinking``
budget, Gemini ``thinkingConfig``), the model's reasoning comes back as ``message.reasoning`` /
``reasoning_details`` and streamed as ``delta.reasoning`` / ``delta.reasoning_details``,
``exclude`` hides it, signed thinking sent back in a later turn reaches Claude intact (the fake
checks the signature), ``<think>`` in a model's text becomes reasoning, and reasoning tokens
are reported in usage."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.api import client
from tests.support.catalog import ANTHROPIC_MODEL, GEMINI_MODEL
from tests.support.upstreams import Upstream

QUESTION = [{"role": "user", "content": "Is 17 prime?"}]
THOUGHT = "Check divisors up to four"
CLAUDE = "anthropic-claude-v1"


def extra(model: Any) -> dict[str, Any]:
    found: dict[str, Any] = model.model_extra or {}
    return found


def streamed(chunks: list[Any]) -> tuple[str, str, list[dict[str, Any]]]:
    """(content, reasoning, reasoning_details merged by index) of a stream."""
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    details: dict[int, dict[str, Any]] = {}
    for delta in deltas:
        for piece in extra(delta).get("reasoning_details") or ():
            merged = details.setdefault(piece["index"], {"type": piece["type"]})
            for key, value in piece.items():
                if key == "text":
                    merged["text"] = merged.get("text", "") + value
                elif key != "index":
                    merged[key] = value
    return (
        "".join(d.content or "" for d in deltas),
        "".join(extra(d).get("reasoning") or "" for d in deltas),
        [details[i] for i in sorted(details)],
    )


# -- Anthropic --------------------------------------------------------------------------------


def test_claude_thinking_without_streaming(stack: Stack, fresh_anthropic: Upstream) -> None:
    fresh_anthropic.script(reply="Yes.", thinking=THOUGHT)

    completion = client(stack).chat.completions.create(
        model=ANTHROPIC_MODEL, messages=QUESTION, extra_body={"reasoning": {"max_tokens": 2000}}
    )

    message = completion.choices[0].message
    assert message.content == "Yes."
    assert extra(message)["reasoning"] == THOUGHT
    [detail] = extra(message)["reasoning_details"]
    assert detail["type"] == "reasoning.text" and detail["text"] == THOUGHT
    assert detail["format"] == CLAUDE and detail["signature"]
    [sent] = fresh_anthropic.requests()
    body: Any = sent["body"]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2000}
    assert body["max_tokens"] == 64000


def test_claude_thinking_streamed(stack: Stack, fresh_anthropic: Upstream) -> None:
    fresh_anthropic.script(reply="Yes.", thinking=THOUGHT)

    chunks = list(
        client(stack).chat.completions.create(
            model=ANTHROPIC_MODEL,
            messages=QUESTION,
            stream=True,
            extra_body={"reasoning": {"effort": "low"}},
        )
    )

    content, reasoning, details = streamed(chunks)
    assert (content, reasoning) == ("Yes.", THOUGHT)
    [detail] = details
    assert detail["text"] == THOUGHT and detail["format"] == CLAUDE and detail["signature"]
    body: Any = fresh_anthropic.requests()[0]["body"]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 12800}  # 20 % of 64000


@pytest.mark.parametrize("stream", [False, True])
def test_excluded_reasoning_is_not_shown(
    stack: Stack, fresh_anthropic: Upstream, stream: bool
) -> None:
    fresh_anthropic.script(reply="Yes.", thinking=THOUGHT)
    options = {"reasoning": {"effort": "high", "exclude": True}}
    api = client(stack)

    if stream:
        chunks = list(
            api.chat.completions.create(
                model=ANTHROPIC_MODEL, messages=QUESTION, stream=True, extra_body=options
            )
        )
        assert streamed(chunks) == ("Yes.", "", [])
    else:
        completion = api.chat.completions.create(
            model=ANTHROPIC_MODEL, messages=QUESTION, extra_body=options
        )
        message = completion.choices[0].message
        assert message.content == "Yes."
        assert "reasoning" not in extra(message) and "reasoning_details" not in extra(message)
    assert "thinking" in fresh_anthropic.requests()[0]["body"]  # type: ignore[operator]


def test_signed_thinking_goes_back_to_claude_with_the_tool_result(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    """Tool use under extended thinking: the next turn must start with Claude's own signed
    thinking, which the client sends back as the ``reasoning_details`` it got."""
    api = client(stack)
    weather = {
        "type": "function",
        "function": {"name": "is_prime", "parameters": {"type": "object", "properties": {}}},
    }
    fresh_anthropic.script(reply="", thinking=THOUGHT, tool_use={"name": "is_prime", "input": {}})
    reasoning = {"reasoning": {"max_tokens": 2000}}
    first = api.chat.completions.create(
        model=ANTHROPIC_MODEL,
        messages=QUESTION,
        tools=[weather],
        extra_body=reasoning,  # type: ignore[list-item]
    )
    assistant = first.choices[0].message
    [call] = assistant.tool_calls or []
    fresh_anthropic.script(reply="Yes, 17 is prime.")

    follow_up = api.chat.completions.create(
        model=ANTHROPIC_MODEL,
        messages=[
            *QUESTION,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [call.model_dump()],
                "reasoning_details": extra(assistant)["reasoning_details"],
            },  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": "true"},
        ],
        tools=[weather],  # type: ignore[list-item]
        extra_body=reasoning,
    )

    assert follow_up.choices[0].message.content == "Yes, 17 is prime."
    turn: Any = fresh_anthropic.requests()[-1]["body"]["messages"][1]  # type: ignore[index]
    assert [b["type"] for b in turn["content"]] == ["thinking", "tool_use"]
    assert turn["content"][0]["thinking"] == THOUGHT


# -- Gemini -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_gemini_thoughts(stack: Stack, fresh_gemini: Upstream, stream: bool) -> None:
    fresh_gemini.script(reply="Yes.", thoughts=THOUGHT, thoughts_tokens=40)
    api = client(stack)
    options = {"reasoning": {"effort": "low"}}

    if stream:
        chunks = list(
            api.chat.completions.create(
                model=GEMINI_MODEL,
                messages=QUESTION,
                stream=True,
                stream_options={"include_usage": True},
                extra_body=options,
            )
        )
        content, reasoning, details = streamed(chunks)
        usage = chunks[-1].usage
    else:
        completion = api.chat.completions.create(
            model=GEMINI_MODEL, messages=QUESTION, extra_body=options
        )
        content = completion.choices[0].message.content or ""
        reasoning = extra(completion.choices[0].message)["reasoning"]
        details = extra(completion.choices[0].message)["reasoning_details"]
        usage = completion.usage

    assert (content, reasoning) == ("Yes.", THOUGHT)
    assert details == [{"type": "reasoning.text", "text": THOUGHT, "format": "google-gemini-v1"}]
    assert usage is not None and usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 40
    body: Any = fresh_gemini.requests()[0]["body"]
    assert body["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 1024,
        "includeThoughts": True,
    }


# -- OpenAI and OpenAI-compatible ---------------------------------------------------------------


def test_the_sdks_own_reasoning_effort_reaches_claude(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    fresh_anthropic.script(reply="Yes.", thinking=THOUGHT)
    completion = client(stack).chat.completions.create(
        model=ANTHROPIC_MODEL, messages=QUESTION, reasoning_effort="high"
    )
    assert extra(completion.choices[0].message)["reasoning"] == THOUGHT
    body: Any = fresh_anthropic.requests()[0]["body"]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 32000}  # 80 %, capped


def test_openai_reasoning_effort_and_tokens(stack: Stack, fresh_upstream: Upstream) -> None:
    fresh_upstream.script(reply="Yes.", reasoning_tokens=64)

    completion = client(stack).chat.completions.create(
        model="openai/gpt-4o-mini", messages=QUESTION, extra_body={"reasoning": {"effort": "high"}}
    )

    assert completion.choices[0].message.content == "Yes."
    assert completion.usage is not None and completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 64
    body: Any = fresh_upstream.requests()[0]["body"]
    assert body["reasoning_effort"] == "high" and "reasoning" not in body


@pytest.mark.parametrize("stream", [False, True])
def test_think_tags_in_the_text_become_reasoning(
    stack: Stack, fresh_upstream: Upstream, stream: bool
) -> None:
    fresh_upstream.script(reply="<think> 17 has no divisors. </think> Yes, prime.")
    api = client(stack)

    if stream:
        chunks = list(
            api.chat.completions.create(model="openai/gpt-4o-mini", messages=QUESTION, stream=True)
        )
        content, reasoning, _ = streamed(chunks)
    else:
        completion = api.chat.completions.create(model="openai/gpt-4o-mini", messages=QUESTION)
        content = completion.choices[0].message.content or ""
        reasoning = extra(completion.choices[0].message)["reasoning"]

    assert content == "Yes, prime."
    assert reasoning.strip() == "17 has no divisors."


def test_effort_with_max_tokens_is_400(stack: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as failure:
        client(stack).chat.completions.create(
            model="openai/gpt-4o-mini",
            messages=QUESTION,
            extra_body={"reasoning": {"effort": "high", "max_tokens": 1000}},
        )
    assert isinstance(failure.value.body, dict) and failure.value.body["param"] == "reasoning"
    assert failure.value.body["type"] == "invalid_request_error"
