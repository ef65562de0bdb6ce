"""``providerOptions.<provider>``: the AI SDK's provider options as request-body fields.

The Vercel AI Gateway applies ``providerOptions.<slug>`` when that provider serves the attempt;
the names are the AI SDK provider packages' (camelCase), turned into the wire fields those
packages send:

* ``openai`` (``@ai-sdk/openai`` chat options): ``logitBias`` → ``logit_bias``, ``logprobs``
  (true, or a number → ``top_logprobs``), ``parallelToolCalls``, ``user``, ``reasoningEffort``,
  ``maxCompletionTokens``, ``store``, ``metadata``, ``prediction``, ``serviceTier``,
  ``textVerbosity`` → ``verbosity``, ``promptCacheKey``, ``safetyIdentifier``.
* every other OpenAI-compatible provider (``groq``, ``xai``, ...): the object as given, as
  ``@ai-sdk/openai-compatible`` spreads its provider options into the body.
* ``anthropic``: ``thinking`` ``{type, budgetTokens}`` → ``{type, budget_tokens}`` (the
  request then loses ``temperature`` / ``top_p`` and its ``max_tokens`` grows by the budget
  when it does not exceed it, as Anthropic requires).
* ``google`` / ``vertex`` (Gemini): ``thinkingConfig``, ``responseModalities``,
  ``mediaResolution``, ``audioTimestamp``, ``imageConfig`` → ``generationConfig``;
  ``safetySettings``, ``cachedContent``, ``labels`` → the body.

Unknown options are ignored (the AI SDK's schemas drop them too). Options never replace what
defines the request (model, messages or contents, system prompt, streaming).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tollgate_router.providers.directory import (
    ANTHROPIC_MESSAGES,
    GOOGLE_GEMINI,
    OPENAI_CHAT,
    provider_info,
)

_OPENAI: Final = {
    "logitBias": "logit_bias",
    "parallelToolCalls": "parallel_tool_calls",
    "user": "user",
    "reasoningEffort": "reasoning_effort",
    "maxCompletionTokens": "max_completion_tokens",
    "store": "store",
    "metadata": "metadata",
    "prediction": "prediction",
    "serviceTier": "service_tier",
    "textVerbosity": "verbosity",
    "promptCacheKey": "prompt_cache_key",
    "safetyIdentifier": "safety_identifier",
}
_GEMINI_CONFIG: Final = (
    "thinkingConfig",
    "responseModalities",
    "mediaResolution",
    "audioTimestamp",
    "imageConfig",
)
_GEMINI_BODY: Final = ("safetySettings", "cachedContent", "labels")
# What options never replace, per wire protocol.
_RESERVED: Final = {
    OPENAI_CHAT: frozenset({"model", "messages", "stream", "stream_options"}),
    ANTHROPIC_MESSAGES: frozenset({"model", "messages", "stream", "system"}),
    GOOGLE_GEMINI: frozenset({"contents", "systemInstruction"}),
}


def _openai(options: Mapping[str, Any]) -> dict[str, Any]:
    fields = {wire: options[name] for name, wire in _OPENAI.items() if name in options}
    logprobs = options.get("logprobs")
    if isinstance(logprobs, bool):
        fields["logprobs"] = logprobs
    elif isinstance(logprobs, int):
        fields.update(logprobs=True, top_logprobs=logprobs)
    return fields


def _anthropic(options: Mapping[str, Any]) -> dict[str, Any]:
    thinking = options.get("thinking")
    if not isinstance(thinking, Mapping):
        return {}
    wire: dict[str, Any] = {"type": thinking.get("type", "enabled")}
    budget = thinking.get("budgetTokens", thinking.get("budget_tokens"))
    if isinstance(budget, int) and not isinstance(budget, bool):
        wire["budget_tokens"] = budget
    return {"thinking": wire}


def _gemini(options: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {name: options[name] for name in _GEMINI_BODY if name in options}
    config = {name: options[name] for name in _GEMINI_CONFIG if name in options}
    if config:
        fields["generationConfig"] = config
    return fields


def body_fields(provider: str, wire_protocol: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``providerOptions.<provider>`` as fields of that provider's request body
    (``wire_protocol``: the catalog offer's, empty for the provider's usual one)."""
    if not options:
        return {}
    if not wire_protocol:
        info = provider_info(provider)
        wire_protocol = info.wire_protocol if info is not None else OPENAI_CHAT
    match wire_protocol:
        case "openai-chat":
            return _openai(options) if provider == "openai" else dict(options)
        case "anthropic-messages":
            return _anthropic(options)
        case "google-gemini":
            return _gemini(options)
        case _:
            return {}


def _merge(into: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for name, value in fields.items():
        current = into.get(name)
        if isinstance(current, dict) and isinstance(value, Mapping):
            _merge(current, value)
        else:
            into[name] = value


def merge(body: dict[str, Any], fields: Mapping[str, Any], wire_protocol: str) -> None:
    """Merge ``fields`` (from :func:`body_fields`) into an assembled request ``body``: objects
    merge, anything else replaces; the request's defining fields stay."""
    if not fields:
        return
    reserved = _RESERVED.get(wire_protocol, frozenset())
    _merge(body, {k: v for k, v in fields.items() if k not in reserved})
    if wire_protocol == ANTHROPIC_MESSAGES:
        _anthropic_thinking(body)


def _anthropic_thinking(body: dict[str, Any]) -> None:
    thinking = body.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
        return
    body.pop("temperature", None)
    body.pop("top_p", None)
    budget = thinking.get("budget_tokens")
    limit = body.get("max_tokens")
    if isinstance(budget, int) and isinstance(limit, int) and limit <= budget:
        body["max_tokens"] = limit + budget
