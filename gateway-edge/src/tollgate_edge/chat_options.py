"""The chat request's tool, structured-output and reasoning options, validated into their
router messages (OpenAI's shapes and Vercel's ``reasoning`` object; every problem is a 400
naming its param)."""

from __future__ import annotations

import re
from typing import Any

import orjson
from tollgate.router.v1 import router_pb2

from tollgate_edge.errors import invalid_request

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_TOOL_MODES = frozenset({"auto", "none", "required"})
_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})
_FORMATS = ("text", "json_object", "json_schema", "json")
_DETAIL_TYPES = frozenset({"reasoning.text", "reasoning.encrypted", "reasoning.summary"})


def _object(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_request(f"`{param}` must be an object", param)
    return value


def _optional_str(container: dict[str, Any], key: str, param: str) -> str:
    value = container.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_request(f"`{param}` must be a string", param)
    return value


def optional_flag(container: dict[str, Any], key: str, param: str) -> bool | None:
    value = container.get(key)
    if value is not None and not isinstance(value, bool):
        raise invalid_request(f"`{param}` must be a boolean", param)
    return value


def _name(value: Any, param: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise invalid_request(
            f"`{param}` must be 1-64 letters, digits, underscores or dashes", param
        )
    return value


def _schema(container: dict[str, Any], key: str, param: str) -> str:
    """A JSON schema object, re-encoded for the router; empty when absent."""
    value = container.get(key)
    if value is None:
        return ""
    return orjson.dumps(_object(value, param)).decode()


# -- tools ------------------------------------------------------------------------------------


def _tool(raw: Any, index: int) -> router_pb2.FunctionTool:
    where = f"tools[{index}]"
    tool = _object(raw, where)
    if tool.get("type", "function") != "function":
        raise invalid_request(f"`{where}.type` must be 'function'", f"{where}.type")
    function = _object(tool.get("function"), f"{where}.function")
    return router_pb2.FunctionTool(
        name=_name(function.get("name"), f"{where}.function.name"),
        description=_optional_str(function, "description", f"{where}.function.description"),
        parameters_json=_schema(function, "parameters", f"{where}.function.parameters"),
        strict=optional_flag(function, "strict", f"{where}.function.strict"),
    )


def tools(data: dict[str, Any]) -> list[router_pb2.FunctionTool]:
    raw = data.get("tools")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid_request("`tools` must be an array", "tools")
    parsed = [_tool(item, i) for i, item in enumerate(raw)]
    names = [t.name for t in parsed]
    if len(set(names)) != len(names):
        raise invalid_request("`tools` must not name a function twice", "tools")
    return parsed


def tool_choice(
    data: dict[str, Any], declared: list[router_pb2.FunctionTool]
) -> router_pb2.ToolChoice | None:
    raw = data.get("tool_choice")
    if raw is None:
        return None
    if isinstance(raw, str):
        if raw not in _TOOL_MODES:
            raise invalid_request(
                "`tool_choice` must be 'auto', 'none', 'required' or a function", "tool_choice"
            )
        if raw == "required" and not declared:
            raise invalid_request("`tool_choice` 'required' needs `tools`", "tool_choice")
        return router_pb2.ToolChoice(mode=raw)
    choice = _object(raw, "tool_choice")
    if choice.get("type") != "function":
        raise invalid_request("`tool_choice.type` must be 'function'", "tool_choice.type")
    function = _object(choice.get("function"), "tool_choice.function")
    name = _name(function.get("name"), "tool_choice.function.name")
    if name not in {t.name for t in declared}:
        raise invalid_request(
            f"`tool_choice` names {name!r}, which is not in `tools`", "tool_choice.function.name"
        )
    return router_pb2.ToolChoice(function_name=name)


# -- response_format --------------------------------------------------------------------------


def response_format(data: dict[str, Any]) -> router_pb2.ResponseFormat | None:
    raw = data.get("response_format")
    if raw is None:
        return None
    fmt = _object(raw, "response_format")
    kind = fmt.get("type")
    if kind not in _FORMATS:
        raise invalid_request(
            f"`response_format.type` must be one of {', '.join(_FORMATS)}", "response_format.type"
        )
    if kind in ("text", "json_object"):
        return router_pb2.ResponseFormat(type=kind)
    if kind == "json":  # the legacy form: {type: "json", schema, name, description}
        schema = _schema(fmt, "schema", "response_format.schema")
        name = fmt.get("name")
        return router_pb2.ResponseFormat(
            type="json_schema" if schema else "json_object",
            name="" if name is None else _name(name, "response_format.name"),
            description=_optional_str(fmt, "description", "response_format.description"),
            schema_json=schema,
        )
    spec = _object(fmt.get("json_schema"), "response_format.json_schema")
    prefix = "response_format.json_schema."
    return router_pb2.ResponseFormat(
        type="json_schema",
        name=_name(spec.get("name"), prefix + "name"),
        description=_optional_str(spec, "description", prefix + "description"),
        schema_json=_schema(spec, "schema", prefix + "schema"),
        strict=optional_flag(spec, "strict", prefix + "strict"),
    )


# -- reasoning --------------------------------------------------------------------------------


def _effort(container: dict[str, Any], key: str, param: str) -> str:
    effort = _optional_str(container, key, param)
    if effort and effort not in _EFFORTS:
        raise invalid_request(f"`{param}` must be one of {', '.join(sorted(_EFFORTS))}", param)
    return effort


def reasoning(data: dict[str, Any]) -> router_pb2.ReasoningOptions | None:
    """Vercel's ``reasoning`` object, else OpenAI's own ``reasoning_effort`` (the openai SDK's
    typed parameter); both at once is a 400."""
    raw = data.get("reasoning")
    if raw is None:
        effort = _effort(data, "reasoning_effort", "reasoning_effort")
        return router_pb2.ReasoningOptions(effort=effort) if effort else None
    if data.get("reasoning_effort") is not None:
        raise invalid_request(
            "give `reasoning` or `reasoning_effort`, not both", "reasoning_effort"
        )
    options = _object(raw, "reasoning")
    effort = _effort(options, "effort", "reasoning.effort")
    max_tokens = options.get("max_tokens")
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        raise invalid_request(
            "`reasoning.max_tokens` must be a positive integer", "reasoning.max_tokens"
        )
    if effort and max_tokens is not None:
        raise invalid_request("`reasoning` takes `effort` or `max_tokens`, not both", "reasoning")
    return router_pb2.ReasoningOptions(
        enabled=optional_flag(options, "enabled", "reasoning.enabled"),
        max_tokens=max_tokens,
        effort=effort,
        exclude=bool(optional_flag(options, "exclude", "reasoning.exclude")),
    )


def reasoning_details(raw: Any, where: str, param: str) -> list[router_pb2.ReasoningDetail]:
    """An assistant message's ``reasoning_details`` from an earlier answer."""
    if not isinstance(raw, list):
        raise invalid_request(f"{where}.reasoning_details must be an array", param)
    details = []
    for index, item in enumerate(raw):
        at = f"{where}.reasoning_details[{index}]"
        if not isinstance(item, dict) or item.get("type") not in _DETAIL_TYPES:
            raise invalid_request(
                f"{at} must be an object whose type is one of {', '.join(sorted(_DETAIL_TYPES))}",
                param,
            )
        fields = {
            key: item[key]
            for key in ("text", "signature", "data", "format")
            if isinstance(item.get(key), str)
        }
        if "text" not in fields and isinstance(item.get("summary"), str):
            fields["text"] = item["summary"]
        details.append(router_pb2.ReasoningDetail(type=item["type"], **fields))
    return details
