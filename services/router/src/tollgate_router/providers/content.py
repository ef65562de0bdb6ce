"""Helpers that translate OpenAI-style message content for APIs shaped differently (Anthropic,
Gemini): data URIs, file payloads, system text, tool-call arguments and names."""

from __future__ import annotations

import mimetypes
import secrets
from typing import Any

import orjson

from tollgate_router.domain import FilePart, ImagePart, Message, TextPart
from tollgate_router.providers.base import ProviderError

SYSTEM_ROLES = frozenset({"system", "developer"})


def invalid(message: str) -> ProviderError:
    """A request this provider's API cannot express: the caller's 400, never retried elsewhere."""
    return ProviderError(400, message, type="invalid_request_error", param="messages")


def split_data_uri(uri: str) -> tuple[str, str] | None:
    """``data:<media type>;base64,<data>`` → (media type, base64 data); None otherwise."""
    if not uri.startswith("data:"):
        return None
    header, comma, data = uri.partition(",")
    if not comma or not header.endswith(";base64"):
        return None
    return header[5:].split(";", 1)[0], data


def file_payload(part: FilePart) -> tuple[str, str]:
    """(media type, base64 data) of a file part given as a data URI or bare base64."""
    split = split_data_uri(part.data)
    if split is None:
        return part.media_type, part.data
    media_type, data = split
    return part.media_type or media_type, data


def guess_media_type(url: str, default: str) -> str:
    guessed, _ = mimetypes.guess_type(url.split("?", 1)[0], strict=False)
    return guessed or default


def text_of(content: str | tuple[TextPart | ImagePart | FilePart, ...] | None) -> str:
    """The text of ``content`` (text parts joined with a blank line); other parts are left out."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n\n".join(p.text for p in content if isinstance(p, TextPart))


def system_text(messages: tuple[Message, ...]) -> list[str]:
    """The texts of the system / developer messages, in order (empty ones dropped)."""
    return [
        text for m in messages if m.role in SYSTEM_ROLES if (text := text_of(m.content).strip())
    ]


def arguments_object(arguments: str, name: str) -> dict[str, Any]:
    """Tool-call arguments (a JSON object as text, empty meaning none) as a dict."""
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise invalid(f"the arguments of tool call {name!r} must be a JSON object")
    return value


def new_call_id() -> str:
    """An id for a tool call that came without one (Gemini's, some compatible APIs'): OpenAI
    clients need one per call."""
    return f"call_{secrets.token_urlsafe(18)}"


def tool_names(messages: tuple[Message, ...]) -> dict[str, str]:
    """Tool call id → function name, from the assistant messages' tool calls."""
    return {call.id: call.name for m in messages for call in m.tool_calls}
