"""An Anthropic Messages request validated into the router's surface-neutral
``StreamGenerateRequest``: ``system`` becomes a system message, content blocks become content
parts, ``tool_use`` / ``tool_result`` blocks become tool calls and tool messages, signed
``thinking`` (and ``redacted_thinking``) goes back as ``reasoning_details`` so Claude gets its
own reasoning intact in a later turn; ``role: "system"`` messages in the conversation are system
messages where they stand. The model options (thinking, effort, Claude-only fields) are
:mod:`tollgate_edge.messages.options`. A field Tollgate does not know is a 400 naming it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson
from tollgate.router.v1 import router_pb2

from tollgate_edge import chat_parts
from tollgate_edge.errors import invalid_request
from tollgate_edge.json_body import json_object
from tollgate_edge.messages.options import model_options, tool_extras
from tollgate_edge.messages.reasoning import untagged

_MAX_TOKENS: Final = (1, 2**31 - 1)
# Fields of the request body this surface honours. ``cache_control`` on blocks and tools is
# accepted (providers cache prompts on their own) and not forwarded.
_FIELDS: Final = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "metadata",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "context_management",
    }
)
_TOOL_FIELDS: Final = frozenset(
    {
        "name",
        "description",
        "input_schema",
        "cache_control",
        "type",
        "defer_loading",
        "strict",
        "eager_input_streaming",
        "input_examples",
        "allowed_callers",
    }
)


@dataclass(frozen=True, slots=True)
class MessagesRequest:
    rpc: router_pb2.StreamGenerateRequest
    stream: bool


def parse_messages_request(body: bytes, caller: router_pb2.CallerContext) -> MessagesRequest:
    """Validate ``body``; every problem is a 400 naming the field."""
    data = json_object(body)
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise invalid_request(f"{unknown[0]}: Extra inputs are not permitted", unknown[0])
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid_request("model: Field required (a non-empty string)", "model")
    stream = data.get("stream", False)
    if not isinstance(stream, bool):
        raise invalid_request("stream: Input should be a valid boolean", "stream")
    tools, extras = _tools(data.get("tools"))
    options = model_options(data, extras)
    user = _metadata_user(data.get("metadata"))
    choice, parallel = _tool_choice(data.get("tool_choice"), tools)
    rpc = router_pb2.StreamGenerateRequest(
        caller=caller,
        model=model.strip(),
        messages=[*_system(data.get("system")), *_messages(data.get("messages"))],
        params=_params(data, user),
        stream=stream,
        routing=router_pb2.RoutingOptions(user=user),
        tools=tools,
        tool_choice=choice,
        reasoning=options.reasoning,
        provider_options=options.provider_options,
    )
    if parallel is not None:
        rpc.parallel_tool_calls = parallel
    return MessagesRequest(rpc=rpc, stream=stream)


def count_request(body: bytes) -> router_pb2.StreamGenerateRequest:
    """A ``count_tokens`` body (a Messages request without ``max_tokens``) as the same RPC."""
    data = json_object(body)
    data.setdefault("max_tokens", 1)
    data.pop("stream", None)
    return parse_messages_request(orjson.dumps(data), router_pb2.CallerContext()).rpc


# --- top level -------------------------------------------------------------------------------


def _number(data: dict[str, Any], key: str, high: float) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        raise invalid_request(f"{key}: must be a number between 0 and {high:g}", key)
    return float(value)


def _params(data: dict[str, Any], user: str) -> router_pb2.GenerationParams:
    max_tokens = data.get("max_tokens")
    low, high = _MAX_TOKENS
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise invalid_request("max_tokens: Field required (an integer)", "max_tokens")
    if not low <= max_tokens <= high:
        raise invalid_request(f"max_tokens: must be between {low} and {high}", "max_tokens")
    params = router_pb2.GenerationParams(max_tokens=max_tokens, user=user)
    if (temperature := _number(data, "temperature", 1.0)) is not None:
        params.temperature = temperature
    if (top_p := _number(data, "top_p", 1.0)) is not None:
        params.top_p = top_p
    stop = data.get("stop_sequences")
    if stop is not None:
        if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
            raise invalid_request(
                "stop_sequences: must be an array of non-empty strings", "stop_sequences"
            )
        params.stop.extend(stop)
    return params


def _metadata_user(value: Any) -> str:
    """``metadata.user_id``: the end user the spend is attributed to, as chat's ``user``."""
    if value is None:
        return ""
    if not isinstance(value, dict) or not set(value) <= {"user_id"}:
        raise invalid_request("metadata: only `user_id` is supported", "metadata")
    user = value.get("user_id")
    if user is None:
        return ""
    if not isinstance(user, str) or len(user) > 256:
        raise invalid_request("metadata.user_id: must be a string of at most 256 characters")
    return user.replace("\x00", "")[:200]


# --- tools -----------------------------------------------------------------------------------


def _tools(value: Any) -> tuple[list[router_pb2.FunctionTool], dict[str, dict[str, Any]]]:
    """The function tools, and each one's Claude-only fields by name (``defer_loading``...)."""
    if value is None:
        return [], {}
    if not isinstance(value, list):
        raise invalid_request("tools: must be an array", "tools")
    tools = []
    extras: dict[str, dict[str, Any]] = {}
    for index, raw in enumerate(value):
        where = f"tools.{index}"
        if not isinstance(raw, dict):
            raise invalid_request(f"{where}: must be an object", where)
        if raw.get("type") not in (None, "custom") or not set(raw) <= _TOOL_FIELDS:
            raise invalid_request(
                f"{where}: only client tools (name, description, input_schema) are supported, "
                "not Anthropic's server or versioned tools",
                where,
            )
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise invalid_request(f"{where}.name: Field required", f"{where}.name")
        description = raw.get("description", "")
        if not isinstance(description, str):
            raise invalid_request(f"{where}.description: must be a string", where)
        schema = raw.get("input_schema")
        if not isinstance(schema, dict):
            raise invalid_request(f"{where}.input_schema: Field required (an object)", where)
        tool = router_pb2.FunctionTool(
            name=name, description=description, parameters_json=orjson.dumps(schema).decode()
        )
        if found := tool_extras(raw, where):
            extras[name] = found
            if isinstance(found.get("strict"), bool):
                tool.strict = found["strict"]
        tools.append(tool)
    return tools, extras


def _tool_choice(
    value: Any, tools: list[router_pb2.FunctionTool]
) -> tuple[router_pb2.ToolChoice | None, bool | None]:
    """(``tool_choice``, ``parallel_tool_calls``) of Anthropic's ``tool_choice``."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise invalid_request("tool_choice: must be an object", "tool_choice")
    disable = value.get("disable_parallel_tool_use")
    if disable is not None and not isinstance(disable, bool):
        raise invalid_request(
            "tool_choice.disable_parallel_tool_use: must be a boolean", "tool_choice"
        )
    parallel = None if disable is None else not disable
    match value.get("type"):
        case "auto":
            return router_pb2.ToolChoice(mode="auto"), parallel
        case "any":
            return router_pb2.ToolChoice(mode="required"), parallel
        case "none":
            return router_pb2.ToolChoice(mode="none"), None
        case "tool":
            name = value.get("name")
            if not isinstance(name, str) or name not in {t.name for t in tools}:
                raise invalid_request("tool_choice.name: must name one of `tools`", "tool_choice")
            return router_pb2.ToolChoice(function_name=name), parallel
    raise invalid_request("tool_choice.type: must be auto, any, tool or none", "tool_choice.type")


# --- system and messages -----------------------------------------------------------------------


def _text_blocks(value: Any, where: str) -> str:
    """The text of a list of ``text`` blocks (``system``, a ``tool_result``'s content)."""
    texts = []
    for index, block in enumerate(value):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise invalid_request(f"{where}.{index}: only text blocks are supported here", where)
        texts.append(_string(block.get("text"), f"{where}.{index}.text"))
    return "\n\n".join(texts)


def _system(value: Any) -> list[router_pb2.ChatMessage]:
    if value is None:
        return []
    if isinstance(value, str):
        text = value
    elif isinstance(value, list):
        text = _text_blocks(value, "system")
    else:
        raise invalid_request("system: must be a string or an array of text blocks", "system")
    return [router_pb2.ChatMessage(role="system", text=text)] if text else []


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise invalid_request(f"{where}: must be a string", where)
    return value


def _messages(value: Any) -> list[router_pb2.ChatMessage]:
    if not isinstance(value, list) or not value:
        raise invalid_request("messages: must be a non-empty array", "messages")
    found: list[router_pb2.ChatMessage] = []
    for index, raw in enumerate(value):
        where = f"messages.{index}"
        if not isinstance(raw, dict):
            raise invalid_request(f"{where}: must be an object", where)
        role = raw.get("role")
        content = raw.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            raise invalid_request(f"{where}.content: must be a string or an array", where)
        if role == "user":
            found.extend(_user(content, where))
        elif role == "assistant":
            found.append(_assistant(content, where))
        elif role == "system":  # where it stands (Claude: merged into the top-level system)
            text = _text_blocks(content, f"{where}.content")
            if text:
                found.append(router_pb2.ChatMessage(role="system", text=text))
        else:  # Anthropic's words: Claude Code keys its retry on them
            raise invalid_request(f"{where}.role: Input should be 'user' or 'assistant'", where)
    return found


def _user(blocks: list[Any], where: str) -> list[router_pb2.ChatMessage]:
    """A user turn: its tool results first (one tool message each), then what else it says."""
    results: list[router_pb2.ChatMessage] = []
    parts: list[router_pb2.ContentPart] = []
    for index, block in enumerate(blocks):
        at = f"{where}.content.{index}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "tool_result":
            results.append(_tool_result(block, at))
        elif kind in ("text", "image", "document"):
            parts.append(_part(block, at))
        else:
            raise invalid_request(
                f"{at}.type: a user message takes text, image, document and tool_result "
                f"blocks, not {kind!r}",
                at,
            )
    if parts:
        results.append(router_pb2.ChatMessage(role="user", parts={"parts": parts}))
    if not results:
        raise invalid_request(f"{where}.content: must not be empty", where)
    return results


def _tool_result(block: dict[str, Any], at: str) -> router_pb2.ChatMessage:
    tool_use_id = _string(block.get("tool_use_id"), f"{at}.tool_use_id")
    content = block.get("content", "")
    if isinstance(content, list):
        content = _text_blocks(content, f"{at}.content")
    text = _string(content, f"{at}.content")
    if block.get("is_error") is True:
        text = f"Error: {text}"
    return router_pb2.ChatMessage(role="tool", tool_call_id=tool_use_id, text=text)


def _part(block: dict[str, Any], at: str) -> router_pb2.ContentPart:
    """A text, image or document block, checked as the chat surface checks its parts."""
    kind = block["type"]
    if kind == "text":
        return router_pb2.ContentPart(text=_string(block.get("text"), f"{at}.text"))
    source = block.get("source")
    if not isinstance(source, dict):
        raise invalid_request(f"{at}.source: Field required", f"{at}.source")
    match source.get("type"), kind:
        case "base64", "image":
            data = _string(source.get("data"), f"{at}.source.data")
            media_type = _string(source.get("media_type"), f"{at}.source.media_type")
            url = f"data:{media_type};base64,{data}"
            return chat_parts.part({"type": "image_url", "image_url": {"url": url}}, at)
        case "url", "image":
            url = _string(source.get("url"), f"{at}.source.url")
            return chat_parts.part({"type": "image_url", "image_url": {"url": url}}, at)
        case "base64", "document":
            file = {
                "data": _string(source.get("data"), f"{at}.source.data"),
                "media_type": _string(source.get("media_type"), f"{at}.source.media_type"),
                "filename": block.get("title") or "",
            }
            return chat_parts.part({"type": "file", "file": file}, at)
        case "text", "document":
            return router_pb2.ContentPart(text=_string(source.get("data"), f"{at}.source.data"))
    raise invalid_request(
        f"{at}.source.type: an image takes a base64 or url source, a document a base64 or "
        "text source",
        f"{at}.source.type",
    )


def _assistant(blocks: list[Any], where: str) -> router_pb2.ChatMessage:
    message = router_pb2.ChatMessage(role="assistant")
    texts: list[str] = []
    for index, block in enumerate(blocks):
        at = f"{where}.content.{index}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(_string(block.get("text"), f"{at}.text"))
        elif kind == "tool_use":
            tool_input = block.get("input", {})
            if not isinstance(tool_input, dict):
                raise invalid_request(f"{at}.input: must be an object", f"{at}.input")
            message.tool_calls.append(
                router_pb2.ToolCall(
                    id=_string(block.get("id"), f"{at}.id"),
                    type="function",
                    name=_string(block.get("name"), f"{at}.name"),
                    arguments=orjson.dumps(tool_input).decode(),
                )
            )
        elif kind == "thinking":
            owner, signature = untagged(_string(block.get("signature", ""), f"{at}.signature"))
            message.reasoning_details.append(
                router_pb2.ReasoningDetail(
                    type="reasoning.text",
                    text=_string(block.get("thinking"), f"{at}.thinking"),
                    signature=signature,
                    format=owner,
                )
            )
        elif kind == "redacted_thinking":
            owner, data = untagged(_string(block.get("data"), f"{at}.data"))
            message.reasoning_details.append(
                router_pb2.ReasoningDetail(type="reasoning.encrypted", data=data, format=owner)
            )
        else:
            raise invalid_request(
                f"{at}.type: an assistant message takes text, thinking, redacted_thinking and "
                f"tool_use blocks, not {kind!r}",
                at,
            )
    if texts or not message.tool_calls:
        message.text = "".join(texts)
    return message
