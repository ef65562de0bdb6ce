"""``providerOptions.<provider>``: the AI SDK's provider options as request-body fields.

The Vercel AI Gateway applies ``providerOptions.<slug>`` when that provider serves the attempt;
the names are the AI SDK provider packages' (camelCase), turned into the wire fields those
packages send:

* ``openai`` (``@ai-sdk/openai`` chat options): ``logitBias`` → ``logit_bias``, ``logprobs``
  (true, or a number → ``top_logprobs``), ``parallelToolCalls``, ``user``, ``reasoningEffort``,
  ``maxCompletionTokens``, ``store``, ``metadata``, ``prediction``, ``serviceTier``,
  ``textVerbosity`` → ``verbosity``, ``promptCacheKey``, ``safetyIdentifier``.
* ``openai`` on a catalog offer of OpenAI's Responses API: the same names, as Responses fields
  (``reasoningEffort`` → ``reasoning.effort``, ``textVerbosity`` → ``text.verbosity``,
  ``maxCompletionTokens`` → ``max_output_tokens``; ``logitBias``, ``logprobs`` and
  ``prediction`` are not taken there, and the call is never ``store``d at OpenAI).
* every other OpenAI-compatible provider (``groq``, ``xai``, ...): the object as given, as
  ``@ai-sdk/openai-compatible`` spreads its provider options into the body.
* ``anthropic``: ``topK`` → ``top_k``; ``thinking`` ``{type, budgetTokens}`` → ``{type, budget_tokens}`` (the
  request then loses ``temperature`` / ``top_p`` and its ``max_tokens`` grows by the budget
  when it does not exceed it, as Anthropic requires); ``thinking: {type: "adaptive"}`` as given
  (the budget the request's reasoning made is dropped), ``thinking: null`` removes thinking;
  ``effort`` → ``output_config.effort``; ``contextManagement`` → ``context_management``;
  ``toolFields`` ``{<tool name>: {defer_loading, strict, ...}}`` → those fields on that tool
  (Tollgate's own option: the Messages surface forwards Claude's newer tool fields with it).
* ``google`` / ``vertex`` (Gemini): ``topK``, ``thinkingConfig``, ``responseModalities``,
  ``mediaResolution``, ``audioTimestamp``, ``imageConfig`` → ``generationConfig``;
  ``safetySettings``, ``cachedContent``, ``labels`` → the body.

Unknown options are ignored (the AI SDK's schemas drop them too). Options never replace what
defines the request (model, messages or contents, system prompt, streaming).

Options that raise what a generation may cost are held at billing like the rest of the request
(output limits, thinking budgets, ``n``: see :mod:`tollgate_router.providers.output_limits`);
what cannot be held is refused (:func:`costly_option`): a service tier priced above list price,
web search charged per use, and a limit or count that is not a positive whole number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tollgate_router.providers.directory import (
    ANTHROPIC_MESSAGES,
    GOOGLE_GEMINI,
    OPENAI_CHAT,
    OPENAI_RESPONSES,
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
    "topK",
    "thinkingConfig",
    "responseModalities",
    "mediaResolution",
    "audioTimestamp",
    "imageConfig",
)
_GEMINI_BODY: Final = ("safetySettings", "cachedContent", "labels")
# The chat options the Responses API takes under the same name.
_RESPONSES_FIELDS: Final = frozenset(
    {
        "parallel_tool_calls",
        "user",
        "metadata",
        "service_tier",
        "prompt_cache_key",
        "safety_identifier",
    }
)
# What options never replace, per wire protocol.
_RESERVED: Final = {
    OPENAI_CHAT: frozenset({"model", "messages", "stream", "stream_options"}),
    OPENAI_RESPONSES: frozenset({"model", "input", "stream", "store", "include"}),
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


def _openai_responses(options: Mapping[str, Any]) -> dict[str, Any]:
    fields = {
        wire: options[name]
        for name, wire in _OPENAI.items()
        if name in options and wire in _RESPONSES_FIELDS
    }
    if "reasoningEffort" in options:
        fields["reasoning"] = {"effort": options["reasoningEffort"]}
    if "textVerbosity" in options:
        fields["text"] = {"verbosity": options["textVerbosity"]}
    if "maxCompletionTokens" in options:
        fields["max_output_tokens"] = options["maxCompletionTokens"]
    return fields


# The option that carries tool fields (merged into ``tools`` by name, not as a body field).
_TOOL_FIELDS: Final = "toolFields"


def _anthropic(options: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    top_k = options.get("topK")
    if isinstance(top_k, int) and not isinstance(top_k, bool):
        fields["top_k"] = top_k
    if isinstance(effort := options.get("effort"), str):
        fields["output_config"] = {"effort": effort}
    if isinstance(managed := options.get("contextManagement"), Mapping):
        fields["context_management"] = managed
    if isinstance(tools := options.get(_TOOL_FIELDS), Mapping):
        fields[_TOOL_FIELDS] = tools
    thinking = options.get("thinking")
    if thinking is None and "thinking" in options:
        fields["thinking"] = None
    if not isinstance(thinking, Mapping):
        return fields
    wire: dict[str, Any] = {"type": thinking.get("type", "enabled")}
    budget = thinking.get("budgetTokens", thinking.get("budget_tokens"))
    if isinstance(budget, int) and not isinstance(budget, bool):
        wire["budget_tokens"] = budget
    if isinstance(display := thinking.get("display"), str):
        wire["display"] = display
    return {**fields, "thinking": wire}


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
        case "openai-responses":
            return _openai_responses(options)
        case "anthropic-messages":
            return _anthropic(options)
        case "google-gemini":
            return _gemini(options)
        case _:
            return {}


# Service tiers at or below list price (OpenAI's flex is cheaper; priority costs more).
_LIST_PRICE_TIERS: Final = frozenset({"auto", "default", "flex", "on_demand"})
# OpenAI-compatible body fields that count output tokens or choices.
_COUNTS: Final = ("max_tokens", "max_completion_tokens", "n")
# OpenAI-compatible body fields charged per use beyond the tokens (web search: per call or per
# source), which no token price covers.
_PER_USE: Final = ("web_search_options", "search_parameters")


def _whole(value: Any, least: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def costly_option(
    provider: str, wire_protocol: str, options: Mapping[str, Any]
) -> tuple[str, str] | None:
    """The first of ``providerOptions.<provider>`` that would cost more than pre-flight can
    hold, as (its name, why); None when there is none."""
    if not options:
        return None
    if not wire_protocol:
        info = provider_info(provider)
        wire_protocol = info.wire_protocol if info is not None else OPENAI_CHAT
    match wire_protocol:
        case "openai-chat" | "openai-responses" if provider == "openai":
            tier, counts = (
                "serviceTier",
                {"maxCompletionTokens": options.get("maxCompletionTokens")},
            )
        case "openai-chat":
            if used := next((name for name in _PER_USE if name in options), None):
                return used, "is charged per use beyond the token prices, which cannot be held"
            tier, counts = "service_tier", {name: options.get(name) for name in _COUNTS}
        case "anthropic-messages":
            thinking = options.get("thinking")
            budget = thinking.get("budgetTokens") if isinstance(thinking, Mapping) else None
            tier, counts = "", {"thinking.budgetTokens": budget}
        case "google-gemini":
            config = options.get("thinkingConfig")
            budget = config.get("thinkingBudget") if isinstance(config, Mapping) else None
            if budget is not None and not _whole(budget, -1):
                return "thinkingConfig.thinkingBudget", "must be an integer (-1: dynamic, 0: off)"
            return None
        case _:
            return None
    value = options.get(tier) if tier else None
    if value is not None and (not isinstance(value, str) or value not in _LIST_PRICE_TIERS):
        return tier, "costs more than list price; use auto, default or flex"
    for name, value in counts.items():
        if value is not None and not _whole(value):
            return name, "must be a positive integer"
    return None


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
    fields = {k: v for k, v in fields.items() if k not in reserved}
    if wire_protocol == ANTHROPIC_MESSAGES:
        _anthropic_tools(body, fields.pop(_TOOL_FIELDS, None))
    _merge(body, fields)
    if wire_protocol == ANTHROPIC_MESSAGES:
        _anthropic_thinking(body)


def _anthropic_tools(body: dict[str, Any], extras: Any) -> None:
    if not isinstance(extras, Mapping):
        return
    for tool in body.get("tools", ()):
        found = extras.get(tool.get("name"))
        if isinstance(found, Mapping):
            tool.update({k: v for k, v in found.items() if k not in ("name", "input_schema")})


def _anthropic_thinking(body: dict[str, Any]) -> None:
    thinking = body.get("thinking")
    if thinking is None:
        body.pop("thinking", None)  # ``thinking: null``: none
        return
    if not isinstance(thinking, dict):
        return
    if thinking.get("type") in ("adaptive", "disabled"):
        thinking.pop("budget_tokens", None)  # made from the request's reasoning
    if thinking.get("type") not in ("enabled", "adaptive"):
        return
    body.pop("temperature", None)  # neither goes with thinking
    body.pop("top_p", None)
    if thinking.get("type") == "adaptive":
        return
    budget = thinking.get("budget_tokens")
    limit = body.get("max_tokens")
    if isinstance(budget, int) and isinstance(limit, int) and limit <= budget:
        body["max_tokens"] = limit + budget
