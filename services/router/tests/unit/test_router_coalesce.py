"""Deltas read together from a provider go on as one per run, in order, content unchanged."""

from __future__ import annotations

from tollgate_router.events import (
    FinishReason,
    ProviderEvent,
    ReasoningDelta,
    ResponseStart,
    TextDelta,
    ToolCallDelta,
)
from tollgate_router.providers.transport import coalesce


def test_runs_of_one_kind_become_one_delta_and_the_rest_keeps_its_order() -> None:
    read: list[ProviderEvent] = [
        ResponseStart("chatcmpl-1", "gpt-4o", 1, ""),
        ReasoningDelta("Let me ", format="anthropic-claude-v1"),
        ReasoningDelta("think.", format="anthropic-claude-v1"),
        ReasoningDelta(signature="sig", format="anthropic-claude-v1"),
        ReasoningDelta("Other", format="google-gemini-v1"),
        TextDelta("Hel"),
        TextDelta("lo"),
        ToolCallDelta(0, "call_1", "get_weather", ""),
        ToolCallDelta(0, arguments='{"city"'),
        ToolCallDelta(0, arguments=': "Paris"}'),
        ToolCallDelta(1, "call_2", "get_time", '{"tz"'),
        ToolCallDelta(1, arguments=': "CET"}'),
        FinishReason("tool_calls"),
    ]

    assert coalesce(read) == [
        ResponseStart("chatcmpl-1", "gpt-4o", 1, ""),
        ReasoningDelta("Let me think.", format="anthropic-claude-v1"),
        # A signature closes its detail: it is never merged, nor is another format's text.
        ReasoningDelta(signature="sig", format="anthropic-claude-v1"),
        ReasoningDelta("Other", format="google-gemini-v1"),
        TextDelta("Hello"),
        # A call's first delta (its id and name) stays first; its fragments join after it.
        ToolCallDelta(0, "call_1", "get_weather", ""),
        ToolCallDelta(0, arguments='{"city": "Paris"}'),
        ToolCallDelta(1, "call_2", "get_time", '{"tz"'),
        ToolCallDelta(1, arguments=': "CET"}'),
        FinishReason("tool_calls"),
    ]


def test_a_lone_delta_is_passed_as_it_is() -> None:
    read: list[ProviderEvent] = [TextDelta("word")]
    assert coalesce(read) is read
