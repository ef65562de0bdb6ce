"""A Messages request's model options: ``thinking`` and ``output_config.effort`` become the
router's ``ReasoningOptions`` (every provider maps those its own way), and what only Claude
understands — ``top_k``, adaptive thinking, ``output_config.effort``, ``context_management``,
tools' newer fields such as ``defer_loading`` — rides to Anthropic as its provider options, which
the router merges into the body it sends Claude (router providers/provider_options.py). Other
providers never see those: ``context_management`` and the tool fields are dropped for them.

Claude Code sends all of these (what it sends depends on the model id it is given), as does the
current anthropic SDK; Anthropic accepts them, so Tollgate does too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson
from tollgate.router.v1 import router_pb2

from tollgate_edge.errors import invalid_request

_MAX_TOP_K: Final = 2**31 - 1
_EFFORTS: Final = ("low", "medium", "high", "xhigh", "max")
# Effort for the providers that have no ``max`` (OpenAI's highest is ``xhigh``).
_TRANSLATED_EFFORT: Final = {"max": "xhigh"}
# Tool fields Claude takes beyond the function itself (forwarded to Anthropic only).
_TOOL_EXTRAS: Final = frozenset(
    {"defer_loading", "strict", "eager_input_streaming", "input_examples", "allowed_callers"}
)


@dataclass(frozen=True, slots=True)
class ModelOptions:
    reasoning: router_pb2.ReasoningOptions | None
    provider_options: dict[str, str]


def model_options(data: dict[str, Any], tool_extras: dict[str, dict[str, Any]]) -> ModelOptions:
    """The reasoning and provider options of the request ``data``; ``tool_extras`` are the
    tools' Claude-only fields by tool name (from :func:`tool_extras`)."""
    thinking = data.get("thinking")
    effort = _effort(data.get("output_config"))
    reasoning = _reasoning(thinking, effort)
    anthropic: dict[str, Any] = {}
    google: dict[str, Any] = {}
    if isinstance(thinking, dict) and (thinking.get("type") == "adaptive" or "display" in thinking):
        anthropic["thinking"] = thinking  # as sent: Claude's own shape
    if effort:
        anthropic["effort"] = effort
        if thinking is None:  # Claude: effort on its own, no thinking made up for it
            anthropic["thinking"] = None
    if (top_k := _top_k(data.get("top_k"))) is not None:
        anthropic["topK"] = google["topK"] = top_k
    if (managed := _context_management(data.get("context_management"))) is not None:
        anthropic["contextManagement"] = managed
    if tool_extras:
        anthropic["toolFields"] = tool_extras
    options = {"anthropic": anthropic, "google": google}
    return ModelOptions(
        reasoning=reasoning,
        provider_options={name: orjson.dumps(o).decode() for name, o in options.items() if o},
    )


def tool_extras(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """The Claude-only fields of one tool, checked."""
    extras = {name: raw[name] for name in _TOOL_EXTRAS if name in raw}
    for name in ("defer_loading", "strict", "eager_input_streaming"):
        value = extras.get(name)
        if value is not None and not isinstance(value, bool):
            raise invalid_request(f"{where}.{name}: Input should be a valid boolean", where)
    for name in ("input_examples", "allowed_callers"):
        if name in extras and not isinstance(extras[name], list):
            raise invalid_request(f"{where}.{name}: Input should be a valid list", where)
    return extras


def _reasoning(thinking: Any, effort: str) -> router_pb2.ReasoningOptions | None:
    """``thinking`` (enabled with a budget, adaptive, disabled) with ``output_config.effort``
    as the router's reasoning options; a budget wins over an effort (never both)."""
    translated = _TRANSLATED_EFFORT.get(effort, effort)
    if thinking is None:
        return router_pb2.ReasoningOptions(effort=translated) if effort else None
    if not isinstance(thinking, dict):
        raise invalid_request("thinking: must be an object", "thinking")
    display = thinking.get("display")  # for Claude (summarized, omitted, updates...)
    if display is not None and not isinstance(display, str):
        raise invalid_request(
            "thinking.display: Input should be a valid string", "thinking.display"
        )
    match thinking.get("type"):
        case "disabled":
            return None  # the model's default: no thinking unless the model always reasons
        case "adaptive":  # the provider's own default budget, or the effort asked for
            return router_pb2.ReasoningOptions(enabled=True, effort=translated)
        case "enabled":
            budget = thinking.get("budget_tokens")
            if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1024:
                raise invalid_request(
                    "thinking.budget_tokens: must be an integer of at least 1024",
                    "thinking.budget_tokens",
                )
            return router_pb2.ReasoningOptions(enabled=True, max_tokens=budget)
    raise invalid_request(
        "thinking.type: Input should be 'enabled', 'adaptive' or 'disabled'", "thinking.type"
    )


def _effort(value: Any) -> str:
    """``output_config.effort`` ("" when not given)."""
    if value is None:
        return ""
    if not isinstance(value, dict):
        raise invalid_request("output_config: must be an object", "output_config")
    for name in value:
        if name == "format":
            raise invalid_request(
                "output_config.format: structured outputs are not supported on this surface; "
                "use a tool, or chat completions' response_format",
                "output_config.format",
            )
        if name != "effort":
            raise invalid_request(
                f"output_config.{name}: Extra inputs are not permitted", f"output_config.{name}"
            )
    effort = value.get("effort")
    if effort is None:
        return ""
    if effort not in _EFFORTS:
        raise invalid_request(
            "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'",
            "output_config.effort",
        )
    return str(effort)


def _context_management(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("edits", []), list):
        raise invalid_request(
            "context_management: must be an object with an `edits` array", "context_management"
        )
    return value


def _top_k(value: Any) -> int | None:
    """``top_k`` reaches the providers that have it (Anthropic, Gemini) as their own option."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_TOP_K:
        raise invalid_request("top_k: must be a positive integer", "top_k")
    return value
