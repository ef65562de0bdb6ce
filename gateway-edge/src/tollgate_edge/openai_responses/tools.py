"""``tools`` and ``tool_choice`` of a Responses request in the chat surface's shape.

Function tools (flat: ``{type, name, description, parameters, strict}``) become chat function
tools. OpenAI's hosted web search (``web_search``, ``web_search_preview``...) is a tool OpenAI
runs on its side, which the model may use or not: Tollgate has no search to run, so it is left
out and the model answers without it. Agents that always offer it (Codex CLI) then work. A
``namespace`` tool (a named group of function tools, e.g. an agent's MCP servers) is left out
too: its calls would have to come back with their ``namespace``, which the chat core does not
carry. Every other hosted tool (file search, code interpreter, computer use, MCP, image
generation, custom tools, ...) is a 400: a client that offers it expects it to be run."""

from __future__ import annotations

from typing import Any, Final

from tollgate_edge.errors import invalid_request

# Tool types left out of what the model is offered (see above).
DROPPED_TOOLS: Final = frozenset(
    {
        "web_search",
        "web_search_preview",
        "web_search_2025_08_26",
        "web_search_preview_2025_03_11",
        "namespace",
    }
)


def chat_tools(value: Any) -> list[dict[str, Any]]:
    """The chat function tools of ``tools``; the dropped ones are checked to be objects only."""
    if not isinstance(value, list):
        raise invalid_request("`tools` must be an array", "tools")
    found = []
    for index, tool in enumerate(value):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise invalid_request(f"`{where}` must be an object", where)
        kind = tool.get("type")
        if kind in DROPPED_TOOLS:
            continue
        if kind != "function":
            raise invalid_request(
                f"`{where}.type` {kind!r} is not supported: only function tools run through "
                "Tollgate (web search and namespace tools are left out; file search, code "
                "interpreter, computer use, MCP, ... are refused)",
                f"{where}.type",
            )
        function = {k: v for k, v in tool.items() if k != "type"}
        found.append({"type": "function", "function": function})
    return found


def chat_tool_choice(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value.get("type") == "function":
        return {"type": "function", "function": {"name": value.get("name")}}
    if isinstance(value, dict) and value.get("type") == "allowed_tools":
        raise invalid_request("`tool_choice` 'allowed_tools' is not supported", "tool_choice")
    raise invalid_request(
        "`tool_choice` must be 'auto', 'none', 'required' or {type: 'function', name}",
        "tool_choice",
    )
