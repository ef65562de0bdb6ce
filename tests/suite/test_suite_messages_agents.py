"""What agents send ``/v1/messages`` beyond the basics — Claude Code and the current anthropic
SDK: ``thinking`` (a budget or ``adaptive``), ``output_config.effort``, ``context_management``,
tools' ``defer_loading`` / ``strict``, ``role: "system"`` messages in the conversation and the
``anthropic-beta`` header — each reaching every provider in that provider's own shape (the fakes
record the bodies they got): natively to Claude, translated (or dropped, as docs/messages.md
says) for OpenAI and Gemini. Also the sampling settings per provider."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.types.beta import (
    BetaContextManagementConfigParam,
    BetaMessageParam,
    BetaToolParam,
)
from tollgate_cli.stack import Stack

from tests.suite.test_suite_messages import (
    OPENAI_MODEL,
    PROVIDERS,
    QUESTION,
    THOUGHT,
    Provider,
    billed,
    claude,
    logged,
)
from tests.support.catalog import ANTHROPIC_MODEL, GEMINI_MODEL
from tests.support.upstreams import Upstream

CONTEXT_MANAGEMENT: BetaContextManagementConfigParam = {
    "edits": [{"type": "clear_tool_uses_20250919"}]
}
BETAS = ["context-management-2025-06-27"]
# A tool as Claude Code declares its deferred ones (found through tool search when needed).
DEFERRED: BetaToolParam = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    "defer_loading": True,
    "strict": True,
}
REMINDER = "Answer in one word."
# A conversation with a system message in the middle, as Claude Code sends for an unknown id.
CONVERSATION: list[BetaMessageParam] = [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "system", "content": REMINDER},
    {"role": "user", "content": "What is the weather in Paris?"},
]


@pytest.fixture(params=PROVIDERS, ids=[p.name for p in PROVIDERS])
def provider(request: pytest.FixtureRequest) -> tuple[Provider, Upstream]:
    chosen: Provider = request.param
    return chosen, request.getfixturevalue(chosen.fixture)


def agent_request(stack: Stack, model: str) -> Any:
    """Everything Claude Code sends a model it does not know, through the SDK's beta client."""
    return claude(stack).beta.messages.create(
        model=model,
        max_tokens=4000,
        messages=CONVERSATION,
        tools=[DEFERRED],
        thinking={"type": "adaptive", "display": "summarized"},
        output_config={"effort": "high"},
        context_management=CONTEXT_MANAGEMENT,
        betas=BETAS,
    )


def test_agent_fields_reach_claude_natively(stack: Stack, fresh_anthropic: Upstream) -> None:
    fresh_anthropic.script(reply="Sunny.")

    message = agent_request(stack, ANTHROPIC_MODEL)

    assert [getattr(b, "text", None) for b in message.content] == ["Sunny."]
    [sent] = fresh_anthropic.requests()
    body: Any = sent["body"]
    assert body["thinking"] == {"type": "adaptive", "display": "summarized"}  # no budget added
    assert body["output_config"] == {"effort": "high"}
    assert body["context_management"] == CONTEXT_MANAGEMENT
    [tool] = body["tools"]
    assert (tool["name"], tool["defer_loading"], tool["strict"]) == ("get_weather", True, True)
    assert REMINDER in [block["text"] for block in body["system"]]
    assert [turn["role"] for turn in body["messages"]] == ["user", "assistant", "user"]
    assert "context-management-2025-06-27" in sent["headers"]["anthropic-beta"]  # type: ignore[index]
    assert billed(stack, message.id)["provider_name"] == "anthropic"
    assert logged(stack, message.id)["surface"] == "messages"


def test_agent_fields_reach_an_openai_model_translated(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(reply="Sunny.")

    message = agent_request(stack, OPENAI_MODEL)

    assert [getattr(b, "text", None) for b in message.content] == ["Sunny."]
    body: Any = fresh_upstream.requests()[0]["body"]
    assert body["reasoning_effort"] == "high"  # output_config.effort
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "system", "user"]
    assert body["messages"][2]["content"] == REMINDER
    [tool] = body["tools"]
    assert tool["function"]["name"] == "get_weather" and tool["function"]["strict"] is True
    assert "defer_loading" not in tool["function"] and "context_management" not in body
    assert billed(stack, message.id)["provider_name"] == "openai"


def test_agent_fields_reach_a_gemini_model_translated(stack: Stack, fresh_gemini: Upstream) -> None:
    fresh_gemini.script(reply="Sunny.")

    message = agent_request(stack, GEMINI_MODEL)

    assert [getattr(b, "text", None) for b in message.content] == ["Sunny."]
    body: Any = fresh_gemini.requests()[0]["body"]
    assert body["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 24576  # effort high
    assert REMINDER in [part["text"] for part in body["systemInstruction"]["parts"]]
    [declaration] = body["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "get_weather" and "defer_loading" not in declaration
    assert "context_management" not in body
    assert billed(stack, message.id)["provider_name"] == "google"


def test_effort_alone_reaches_claude_without_thinking_and_openai_as_its_effort(
    stack: Stack, fresh_anthropic: Upstream, fresh_upstream: Upstream
) -> None:
    fresh_anthropic.script(reply="Sunny.")
    fresh_upstream.script(reply="Sunny.")

    for model in (ANTHROPIC_MODEL, OPENAI_MODEL):
        claude(stack).messages.create(
            model=model, max_tokens=500, messages=QUESTION, output_config={"effort": "max"}
        )

    to_claude: Any = fresh_anthropic.requests()[0]["body"]
    assert to_claude["output_config"] == {"effort": "max"} and "thinking" not in to_claude
    to_openai: Any = fresh_upstream.requests()[0]["body"]
    assert to_openai["reasoning_effort"] == "xhigh"  # OpenAI's highest


# -- thinking and sampling per provider --------------------------------------------------------


def test_gemini_thoughts_are_a_thinking_block(stack: Stack, fresh_gemini: Upstream) -> None:
    fresh_gemini.script(reply="Sunny.", thoughts=THOUGHT)

    message = claude(stack).messages.create(
        model=GEMINI_MODEL,
        max_tokens=4000,
        messages=QUESTION,
        thinking={"type": "enabled", "budget_tokens": 2000},
    )

    assert [b.type for b in message.content] == ["thinking", "text"]
    assert getattr(message.content[0], "thinking", None) == THOUGHT
    config: Any = fresh_gemini.requests()[0]["body"]["generationConfig"]  # type: ignore[index]
    assert config["thinkingConfig"]["thinkingBudget"] == 2000


def test_thinking_reaches_an_openai_model_as_its_reasoning_effort(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(reply="Sunny.", reasoning_tokens=64)

    message = claude(stack).messages.create(
        model=OPENAI_MODEL,
        max_tokens=4000,
        messages=QUESTION,
        thinking={"type": "enabled", "budget_tokens": 2000},
    )

    assert [getattr(b, "text", None) for b in message.content] == ["Sunny."]
    assert message.usage.output_tokens >= 64  # reasoning is output, billed as such
    body: Any = fresh_upstream.requests()[0]["body"]
    assert body["reasoning_effort"]


def test_sampling_settings_reach_each_provider_in_its_own_shape(
    stack: Stack, provider: tuple[Provider, Upstream]
) -> None:
    chosen, upstream = provider
    chosen.script_reply(upstream, "Fine.")

    claude(stack).messages.create(
        model=chosen.model,
        max_tokens=50,
        messages=QUESTION,
        stop_sequences=["END"],
        # Older SDKs take them as arguments; this one as extra body fields.
        extra_body={"temperature": 0.2, "top_k": 40},
    )

    body: Any = upstream.requests()[0]["body"]
    if chosen.name == "anthropic":
        assert (body["temperature"], body["top_k"], body["stop_sequences"]) == (0.2, 40, ["END"])
    elif chosen.name == "google":
        config = body["generationConfig"]
        assert (config["temperature"], config["topK"], config["stopSequences"]) == (
            0.2,
            40,
            ["END"],
        )
    else:  # OpenAI has no top_k
        assert (body["temperature"], body["stop"], "top_k" in body) == (0.2, ["END"], False)
