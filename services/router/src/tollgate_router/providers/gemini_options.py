"""The Gemini ``generateContent`` request fields for tools, structured outputs and thinking.

* ``tools`` → ``[{"functionDeclarations": [{name, description, parametersJsonSchema}]}]`` (the
  JSON Schema as given: ``parametersJsonSchema`` takes JSON Schema, unlike ``parameters``);
  ``tool_choice`` → ``toolConfig.functionCallingConfig``: ``auto`` → ``AUTO``, ``required`` →
  ``ANY``, ``none`` → ``NONE``, a named function → ``ANY`` with ``allowedFunctionNames``.
  Gemini has no switch for parallel calls; ``parallel_tool_calls`` is not sent.
* ``response_format`` ``json_schema`` → ``responseMimeType: application/json`` +
  ``responseJsonSchema``; ``json_object`` → ``responseMimeType`` alone.
* ``reasoning`` → ``thinkingConfig``: ``thinkingBudget`` = ``max_tokens``, else by ``effort``
  (minimal 512, low 1024, medium 8192, high 24576, xhigh 32768 tokens), 0 with
  ``enabled: false`` or effort ``none``;
  ``includeThoughts`` unless ``exclude``.
"""

from __future__ import annotations

from typing import Any

from tollgate_router.domain import FunctionTool, GenerationParams

_EFFORT_BUDGET = {"minimal": 512, "low": 1024, "medium": 8192, "high": 24576, "xhigh": 32768}
_MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


def _declaration(tool: FunctionTool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool.name}
    if tool.description:
        out["description"] = tool.description
    if tool.parameters:
        out["parametersJsonSchema"] = dict(tool.parameters)
    return out


def tool_fields(params: GenerationParams) -> dict[str, Any]:
    """``tools`` and ``toolConfig`` of the request body."""
    options = params.tools
    fields: dict[str, Any] = {}
    if options.tools:
        fields["tools"] = [{"functionDeclarations": [_declaration(t) for t in options.tools]}]
    if (choice := options.choice) is not None and options.tools:
        config: dict[str, Any] = {"mode": "ANY" if choice.function else _MODES[choice.mode]}
        if choice.function:
            config["allowedFunctionNames"] = [choice.function]
        fields["toolConfig"] = {"functionCallingConfig": config}
    return fields


def config_fields(params: GenerationParams) -> dict[str, Any]:
    """``generationConfig`` entries for the response format and thinking."""
    config: dict[str, Any] = {}
    fmt = params.response_format
    if fmt is not None and fmt.type != "text":
        config["responseMimeType"] = "application/json"
        if fmt.schema:
            config["responseJsonSchema"] = dict(fmt.schema)
    reasoning = params.reasoning
    if reasoning is not None:
        if reasoning.enabled is False or reasoning.effort == "none":
            config["thinkingConfig"] = {"thinkingBudget": 0}
        elif reasoning.wanted:
            budget = reasoning.max_tokens or _EFFORT_BUDGET.get(reasoning.effort, 8192)
            config["thinkingConfig"] = {
                "thinkingBudget": budget,
                "includeThoughts": not reasoning.exclude,
            }
    return config
