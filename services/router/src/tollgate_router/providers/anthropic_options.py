"""The Anthropic Messages request fields for tools, structured outputs and extended thinking.

* ``tools`` → ``[{name, description, input_schema}]`` (a function without parameters gets an
  empty object schema: Anthropic requires one); ``tool_choice`` ``auto`` / ``required`` /
  ``none`` / a named function → ``{"type": "auto" | "any" | "none" | "tool"}``;
  ``parallel_tool_calls: false`` → ``disable_parallel_tool_use``.
* ``response_format`` ``json_schema`` / ``json_object``: the Messages API has no JSON mode, so —
  as Anthropic's "JSON mode" guide documents — the schema becomes the ``input_schema`` of one
  extra tool (:func:`answer_tool`) the model is forced to call; the parsers turn that call's
  input back into the answer's text. Under extended thinking a forced tool is not allowed, so
  the tool is then offered with ``auto`` and the system prompt asks for it.
* ``reasoning`` → ``thinking: {type: "enabled", budget_tokens}``: ``max_tokens`` as given, else
  a share of the output limit by ``effort`` (minimal 10 %, low 20 %, medium 50 %, high 80 %,
  xhigh 95 %; ``none`` or ``enabled: false``: no thinking),
  at least 1024 (Anthropic's minimum) and at most 32000. The budget counts against
  ``max_tokens``, so when the caller's limit does not exceed it the limit is raised by the
  budget (the answer keeps the tokens the caller asked for). Thinking does not combine with
  ``temperature`` / ``top_p``, which are then left out, nor with a forced tool (``required`` or a
  named function: the caller's 400). A raised limit stays within the model's max output, and
  within what pre-flight held (``output_limits``, applied to the finished body).
"""

from __future__ import annotations

from typing import Any

from tollgate_router.domain import FunctionTool, GenerationParams, ToolChoice
from tollgate_router.providers.content import invalid

ANSWER_TOOL = "json_response"
MIN_BUDGET = 1024
MAX_BUDGET = 32000
_EFFORT_SHARE = {"minimal": 0.1, "low": 0.2, "medium": 0.5, "high": 0.8, "xhigh": 0.95}


def _any_object() -> dict[str, Any]:
    """The schema of a tool that takes no particular arguments (a fresh one per request)."""
    return {"type": "object", "properties": {}}


def answer_tool(params: GenerationParams) -> str:
    """The name of the tool that carries a structured answer; empty for plain text."""
    fmt = params.response_format
    if fmt is None or fmt.type == "text":
        return ""
    return fmt.name or ANSWER_TOOL


def thinking_budget(params: GenerationParams, limit: int) -> int | None:
    """The thinking budget for an output limit of ``limit`` tokens; None without thinking."""
    reasoning = params.reasoning
    if reasoning is None or not reasoning.wanted:
        return None
    if reasoning.max_tokens:
        return max(MIN_BUDGET, reasoning.max_tokens)
    share = _EFFORT_SHARE.get(reasoning.effort, _EFFORT_SHARE["medium"])
    return max(MIN_BUDGET, min(int(limit * share), MAX_BUDGET))


def _tool(tool: FunctionTool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool.name}
    if tool.description:
        out["description"] = tool.description
    out["input_schema"] = dict(tool.parameters) if tool.parameters else _any_object()
    return out


def _answer_schema(params: GenerationParams) -> dict[str, Any]:
    fmt = params.response_format
    schema = dict(fmt.schema) if fmt is not None and fmt.schema else _any_object()
    if schema.get("type", "object") != "object":
        raise _refused(
            "Anthropic models can only return a JSON object as a structured answer",
            "response_format",
        )
    return schema


def _choice(choice: ToolChoice) -> dict[str, Any]:
    if choice.function:
        return {"type": "tool", "name": choice.function}
    return {"type": {"required": "any"}.get(choice.mode, choice.mode)}


def _refused(message: str, param: str) -> Exception:
    error = invalid(message)
    error.param = param
    return error


def option_fields(params: GenerationParams, limit: int, ceiling: int = 0) -> dict[str, Any]:
    """``tools``, ``tool_choice``, ``thinking`` and ``max_tokens`` for the request body, plus
    ``hint``: extra system text, not a body field. ``ceiling`` is the model's max output
    (0: unknown), which a limit raised for thinking does not pass."""
    fields: dict[str, Any] = {"max_tokens": limit}
    budget = thinking_budget(params, limit)
    if budget is not None:
        if budget >= limit:
            raised = budget + limit
            fields["max_tokens"] = min(raised, ceiling) if ceiling else raised
            budget = min(budget, fields["max_tokens"] - 1)
        if budget < MIN_BUDGET:
            raise _refused(
                f"the model's output limit leaves no room for {MIN_BUDGET} thinking tokens",
                "reasoning",
            )
        fields["thinking"] = {"type": "enabled", "budget_tokens": budget}
    options = params.tools
    tools = [_tool(t) for t in options.tools]
    choice = _choice(options.choice) if options.choice is not None else None
    if budget is not None and choice is not None and choice["type"] in ("any", "tool"):
        raise _refused(
            "Claude cannot be made to call a tool while it thinks: use tool_choice 'auto' or "
            "'none', or leave reasoning off",
            "tool_choice",
        )
    if answer := answer_tool(params):
        fmt = params.response_format
        tool: dict[str, Any] = {"name": answer, "input_schema": _answer_schema(params)}
        tool["description"] = (
            fmt.description if fmt is not None and fmt.description else "The final answer."
        )
        tools.append(tool)
        if budget is None and not options.tools:
            choice = {"type": "tool", "name": answer}
        else:
            fields["hint"] = f"Give your final answer by calling the {answer!r} tool."
    if tools:
        fields["tools"] = tools
    if choice is not None and tools:
        if options.parallel is False and choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
        fields["tool_choice"] = choice
    elif options.parallel is False and options.tools:
        fields["tool_choice"] = {"type": "auto", "disable_parallel_tool_use": True}
    return fields
