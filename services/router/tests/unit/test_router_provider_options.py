"""``providerOptions.<provider>`` → request-body fields, per wire protocol."""

from __future__ import annotations

from typing import Any

from tollgate_router.providers.provider_options import body_fields, merge


def test_openai_takes_the_ai_sdk_names_as_its_wire_fields() -> None:
    fields = body_fields(
        "openai",
        "",
        {"reasoningEffort": "low", "textVerbosity": "high", "logprobs": 3, "unknown": 1},
    )
    assert fields == {
        "reasoning_effort": "low",
        "verbosity": "high",
        "logprobs": True,
        "top_logprobs": 3,
    }


def test_openai_compatible_providers_take_their_options_as_given() -> None:
    assert body_fields("groq", "", {"service_tier": "flex"}) == {"service_tier": "flex"}


def test_the_request_defining_fields_stay() -> None:
    body: dict[str, Any] = {"model": "m", "messages": [1], "stream": False}
    merge(body, body_fields("groq", "", {"model": "x", "stream": True, "seed": 1}), "openai-chat")
    assert body == {"model": "m", "messages": [1], "stream": False, "seed": 1}


def test_anthropic_thinking_makes_room_in_max_tokens_and_drops_temperature() -> None:
    body: dict[str, Any] = {"model": "c", "max_tokens": 100, "temperature": 0.2, "messages": []}
    fields = body_fields("anthropic", "", {"thinking": {"type": "enabled", "budgetTokens": 1024}})
    merge(body, fields, "anthropic-messages")
    assert body == {
        "model": "c",
        "max_tokens": 1124,
        "messages": [],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }


def test_claudes_newer_fields_reach_its_body_as_anthropic_names_them() -> None:
    """What the Messages surface forwards: adaptive thinking replaces the budget the request's
    reasoning made, effort and context management are body fields, tool fields join their tool."""
    body: dict[str, Any] = {
        "max_tokens": 100,
        "temperature": 0.2,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "tools": [{"name": "a", "input_schema": {}}, {"name": "b", "input_schema": {}}],
    }
    options = {
        "thinking": {"type": "adaptive", "display": "summarized"},
        "effort": "high",
        "contextManagement": {"edits": []},
        "toolFields": {"b": {"defer_loading": True, "name": "not-b"}},
    }
    merge(body, body_fields("anthropic", "", options), "anthropic-messages")
    assert body == {
        "max_tokens": 100,
        "thinking": {"type": "adaptive", "display": "summarized"},
        "output_config": {"effort": "high"},
        "context_management": {"edits": []},
        "tools": [
            {"name": "a", "input_schema": {}},
            {"name": "b", "input_schema": {}, "defer_loading": True},
        ],
    }


def test_anthropic_thinking_null_removes_the_thinking_the_reasoning_made() -> None:
    body: dict[str, Any] = {"max_tokens": 100, "thinking": {"type": "enabled", "budget_tokens": 1}}
    merge(
        body,
        body_fields("anthropic", "", {"thinking": None, "effort": "low"}),
        "anthropic-messages",
    )
    assert body == {"max_tokens": 100, "output_config": {"effort": "low"}}


def test_gemini_options_merge_into_the_generation_config() -> None:
    body: dict[str, Any] = {"contents": [], "generationConfig": {"maxOutputTokens": 9}}
    fields = body_fields("google", "", {"thinkingConfig": {"includeThoughts": True}, "labels": {}})
    merge(body, fields, "google-gemini")
    assert body["generationConfig"] == {
        "maxOutputTokens": 9,
        "thinkingConfig": {"includeThoughts": True},
    }
    assert body["labels"] == {}


def test_a_provider_without_an_adapter_gets_nothing() -> None:
    assert body_fields("bedrock", "", {"anything": 1}) == {}
