"""``input`` of a Responses request: a string or a list of items (messages, ``function_call``,
``function_call_output``, ``reasoning``), validated and then turned into the router's chat
messages. An assistant's reasoning, text and function calls of one turn become one assistant
message (its tool calls and its ``reasoning_details``), each ``function_call_output`` a tool
message. The items of one turn (up to the next user or tool item) stay together whatever their
order: Gemini signs its function call after it. Output items of an earlier response are valid
input items, as on OpenAI."""

from __future__ import annotations

from typing import Any, Final

from tollgate.router.v1 import router_pb2

from tollgate_edge import chat_parts
from tollgate_edge.errors import invalid_request
from tollgate_edge.messages.reasoning import CLAUDE_FORMAT, untagged

_ROLES: Final = frozenset({"user", "system", "developer", "assistant"})
_INPUT = "input"


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise invalid_request(f"`{where}` must be a string", where)
    return value


def input_items(value: Any) -> list[dict[str, Any]]:
    """The items of ``input`` (a string is one user message), each checked."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if not isinstance(value, list) or not value:
        raise invalid_request("`input` must be a string or a non-empty array of items", _INPUT)
    for index, item in enumerate(value):
        _check(item, f"input[{index}]")
    return list(value)


def _check(item: Any, where: str) -> None:
    """Raises the 400 the item deserves; the conversion below relies on it."""
    if not isinstance(item, dict):
        raise invalid_request(f"`{where}` must be an object", where)
    kind = item.get("type", "message")
    if kind == "message":
        _message(item, where)
    elif kind == "function_call":
        for key in ("call_id", "name", "arguments"):
            _string(item.get(key), f"{where}.{key}")
    elif kind == "function_call_output":
        _string(item.get("call_id"), f"{where}.call_id")
        _tool_output(item.get("output"), where)
    elif kind == "reasoning":
        _reasoning(item, where)
    else:
        raise invalid_request(
            f"`{where}.type` {kind!r} is not supported (message, function_call, "
            "function_call_output or reasoning)",
            f"{where}.type",
        )


def messages_of(
    items: list[dict[str, Any]], instructions: str | None
) -> list[router_pb2.ChatMessage]:
    """The chat messages of validated items, ``instructions`` first as a system message."""
    found: list[router_pb2.ChatMessage] = []
    if instructions:
        found.append(router_pb2.ChatMessage(role="system", text=instructions))
    turn: router_pb2.ChatMessage | None = None  # the assistant turn being gathered

    def close() -> None:
        nonlocal turn
        if turn is not None:
            if not turn.tool_calls and not turn.HasField("text"):
                turn.text = ""
            found.append(turn)
            turn = None

    for index, item in enumerate(items):
        where = f"input[{index}]"
        kind = item.get("type", "message")
        if kind == "reasoning":
            detail = _reasoning(item, where)
            if detail is not None:
                turn = turn or router_pb2.ChatMessage(role="assistant")
                turn.reasoning_details.append(detail)
        elif kind == "function_call":
            turn = turn or router_pb2.ChatMessage(role="assistant")
            turn.tool_calls.append(
                router_pb2.ToolCall(
                    id=item["call_id"],
                    type="function",
                    name=item["name"],
                    arguments=item["arguments"],
                )
            )
        elif kind == "message" and item.get("role") == "assistant":
            if turn is not None and turn.HasField("text"):
                close()  # a second assistant message: a turn of its own
            turn = turn or router_pb2.ChatMessage(role="assistant")
            turn.text = _message(item, where).text
        else:
            close()
            if kind == "function_call_output":
                found.append(_tool_message(item, where))
            else:
                found.append(_message(item, where))
    close()
    return found


def _message(item: dict[str, Any], where: str) -> router_pb2.ChatMessage:
    role = item.get("role")
    if role not in _ROLES:
        raise invalid_request(
            f"`{where}.role` must be one of {', '.join(sorted(_ROLES))}", f"{where}.role"
        )
    content = item.get("content")
    if isinstance(content, str):
        return router_pb2.ChatMessage(role=role, text=content)
    if not isinstance(content, list) or not content:
        raise invalid_request(
            f"`{where}.content` must be a string or a non-empty array", f"{where}.content"
        )
    parts = [_part(part, f"{where}.content[{i}]", role) for i, part in enumerate(content)]
    if role == "assistant" or (len(parts) == 1 and parts[0].WhichOneof("part") == "text"):
        return router_pb2.ChatMessage(role=role, text="".join(p.text for p in parts))
    return router_pb2.ChatMessage(role=role, parts=router_pb2.ContentParts(parts=parts))


def _part(raw: Any, where: str, role: str) -> router_pb2.ContentPart:
    if not isinstance(raw, dict):
        raise invalid_request(f"`{where}` must be an object", where)
    kind = raw.get("type")
    if kind in ("input_text", "output_text"):
        return router_pb2.ContentPart(text=_string(raw.get("text"), f"{where}.text"))
    if kind == "refusal" and role == "assistant":
        return router_pb2.ContentPart(text=_string(raw.get("refusal"), f"{where}.refusal"))
    if role != "assistant" and kind == "input_image":
        if raw.get("file_id") is not None or raw.get("image_url") is None:
            raise invalid_request(
                f"`{where}.image_url` is required (file ids of the Files API are not supported)",
                f"{where}.image_url",
            )
        image = {"url": raw.get("image_url"), "detail": raw.get("detail")}
        return chat_parts.part({"type": "image_url", "image_url": image}, where)
    if role != "assistant" and kind == "input_file":
        if raw.get("file_data") is None:
            raise invalid_request(
                f"`{where}.file_data` is required (file ids and file URLs are not supported)",
                f"{where}.file_data",
            )
        file = {"file_data": raw.get("file_data"), "filename": raw.get("filename")}
        return chat_parts.part({"type": "file", "file": file}, where)
    allowed = (
        "output_text, refusal" if role == "assistant" else "input_text, input_image, input_file"
    )
    raise invalid_request(
        f"`{where}.type` {kind!r} is not supported in a {role} message ({allowed})",
        f"{where}.type",
    )


def _tool_output(value: Any, where: str) -> router_pb2.ChatMessage:
    at = f"{where}.output"
    if isinstance(value, str):
        return router_pb2.ChatMessage(role="tool", text=value)
    if not isinstance(value, list) or not value:
        raise invalid_request(f"`{at}` must be a string or a non-empty array", at)
    parts = [_part(part, f"{at}[{i}]", "user") for i, part in enumerate(value)]
    if all(p.WhichOneof("part") == "text" for p in parts):
        return router_pb2.ChatMessage(role="tool", text="".join(p.text for p in parts))
    return router_pb2.ChatMessage(role="tool", parts=router_pb2.ContentParts(parts=parts))


def _tool_message(item: dict[str, Any], where: str) -> router_pb2.ChatMessage:
    message = _tool_output(item.get("output"), where)
    message.tool_call_id = item["call_id"]
    return message


def _reasoning(item: dict[str, Any], where: str) -> router_pb2.ReasoningDetail | None:
    """A reasoning item back as the detail it came from: its summary text signed by its
    ``encrypted_content`` (``<format>#<signature>`` for another provider than Anthropic), or,
    without text, Claude's opaque redacted thinking (Claude's signatures always sign text).
    None when it carries nothing to send back."""
    summary = item.get("summary", [])
    if not isinstance(summary, list):
        raise invalid_request(f"`{where}.summary` must be an array", f"{where}.summary")
    texts = []
    for index, part in enumerate(summary):
        if not isinstance(part, dict):
            raise invalid_request(f"`{where}.summary[{index}]` must be an object", where)
        texts.append(_string(part.get("text"), f"{where}.summary[{index}].text"))
    encrypted = item.get("encrypted_content")
    if encrypted is not None:
        _string(encrypted, f"{where}.encrypted_content")
    if not encrypted:
        return None
    owner, value = untagged(encrypted)
    if texts or owner != CLAUDE_FORMAT:
        # Text with its signature, or a signature alone (Gemini signs its function calls).
        return router_pb2.ReasoningDetail(
            type="reasoning.text", text="\n\n".join(texts), signature=value, format=owner
        )
    # Claude's redacted thinking: opaque, no text.
    return router_pb2.ReasoningDetail(type="reasoning.encrypted", data=value, format=owner)
