"""A Responses API request validated into the router's surface-neutral
``StreamGenerateRequest``. The sampling, tool, reasoning and routing options are the chat
surface's own (the body is rewritten into their chat shape and validated by
:func:`tollgate_edge.chat_request.chat_request_from`, so both doors take the same values);
``input`` items are turned into messages by :mod:`.items`. A field Tollgate cannot honour is a
400 naming it, never dropped silently."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from tollgate.router.v1 import router_pb2

from tollgate_edge import chat_options
from tollgate_edge.chat_request import chat_request_from
from tollgate_edge.errors import invalid_request
from tollgate_edge.json_body import json_object
from tollgate_edge.openai_responses.items import input_items, messages_of
from tollgate_edge.openai_responses.tools import chat_tool_choice, chat_tools

_MAX_OUTPUT_TOKENS: Final = (1, 2**31 - 1)
_SUMMARIES: Final = frozenset({"auto", "concise", "detailed"})
_VERBOSITY: Final = frozenset({"low", "medium", "high"})
_RESPONSE_ID: Final = re.compile(r"^resp_[A-Za-z0-9_-]{1,64}$")
# OpenAI's ``include`` values, all accepted: reasoning always comes back with its
# ``encrypted_content`` when the model signed it, and the others ask for more of items Tollgate
# never returns (hosted tool calls, input images, logprobs), so none changes the answer.
INCLUDES: Final = frozenset(
    {
        "reasoning.encrypted_content",
        "message.output_text.logprobs",
        "message.input_image.image_url",
        "web_search_call.action.sources",
        "web_search_call.results",
        "file_search_call.results",
        "code_interpreter_call.outputs",
        "computer_call_output.output.image_url",
    }
)
_METADATA_PAIRS: Final = 16
# Fields of the body this surface honours; ``providerOptions`` and ``models`` are Tollgate's
# routing options, as on chat completions.
_FIELDS: Final = frozenset(
    {
        "model",
        "input",
        "instructions",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning",
        "text",
        "max_output_tokens",
        "temperature",
        "top_p",
        "metadata",
        "store",
        "stream",
        "previous_response_id",
        "user",
        "safety_identifier",
        "prompt_cache_key",
        "client_metadata",
        "truncation",
        "include",
        "service_tier",
        "background",
        "providerOptions",
        "models",
    }
)


@dataclass(slots=True)
class ResponsesRequest:
    rpc: router_pb2.StreamGenerateRequest
    stream: bool
    store: bool
    # The input items of this request (the previous response's are prepended later).
    items: list[dict[str, Any]]
    instructions: str | None
    previous_response_id: str | None
    # What the response object echoes of the request.
    echo: dict[str, Any] = field(default_factory=dict)


def parse_responses_request(
    body: bytes, caller: router_pb2.CallerContext
) -> tuple[ResponsesRequest, dict[str, Any]]:
    """Validate ``body``; every problem is a 400 naming its param. Returns the request and the
    decoded body (for the idempotency key's hash)."""
    data = json_object(body)
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise invalid_request(f"Unknown parameter: '{unknown[0]}'.", unknown[0])
    _refuse_unsupported(data)
    items = input_items(data.get("input"))
    instructions = _optional_string(data, "instructions")
    previous = _previous_response_id(data.get("previous_response_id"))
    store = _flag(data, "store", default=True)
    stream = _flag(data, "stream", default=False)
    chat = chat_request_from(_chat_shape(data), caller)
    rpc = chat.rpc
    rpc.ClearField("messages")
    rpc.messages.extend(messages_of(items, instructions))
    response_format = _text_format(data.get("text"))
    if response_format is not None:
        rpc.response_format.CopyFrom(response_format)
    max_output = data.get("max_output_tokens")
    if max_output is not None:
        low, high = _MAX_OUTPUT_TOKENS
        if isinstance(max_output, bool) or not isinstance(max_output, int):
            raise invalid_request("`max_output_tokens` must be an integer", "max_output_tokens")
        if not low <= max_output <= high:
            raise invalid_request(
                f"`max_output_tokens` must be between {low} and {high}", "max_output_tokens"
            )
        rpc.params.max_tokens = max_output
    rpc.stream = stream
    return (
        ResponsesRequest(
            rpc=rpc,
            stream=stream,
            store=store,
            items=items,
            instructions=instructions,
            previous_response_id=previous,
            echo=_echo(data),
        ),
        data,
    )


def _flag(data: dict[str, Any], key: str, *, default: bool) -> bool:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid_request(f"`{key}` must be a boolean", key)
    return value


def _optional_string(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid_request(f"`{key}` must be a string", key)
    return value


def _previous_response_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _RESPONSE_ID.match(value):
        raise invalid_request(
            "`previous_response_id` must be the id of a response (`resp_...`)",
            "previous_response_id",
        )
    return value


def _refuse_unsupported(data: dict[str, Any]) -> None:
    if data.get("background") not in (None, False):
        raise invalid_request("`background` responses are not supported", "background")
    truncation = data.get("truncation")
    if truncation not in (None, "disabled", "auto"):
        raise invalid_request("`truncation` must be 'disabled' or 'auto'", "truncation")
    service_tier = data.get("service_tier")
    if service_tier not in (None, "auto", "default"):
        raise invalid_request("`service_tier` must be 'auto' or 'default'", "service_tier")
    include = data.get("include")
    if include is not None and (
        not isinstance(include, list) or not all(i in INCLUDES for i in include)
    ):
        raise invalid_request(f"`include` may hold {', '.join(sorted(INCLUDES))}", "include")
    for key in ("safety_identifier", "prompt_cache_key"):
        _optional_string(data, key)
    _metadata(data.get("metadata"))
    _client_metadata(data.get("client_metadata"))


def _metadata(value: Any) -> None:
    """OpenAI's limits: 16 pairs, keys up to 64 characters, string values up to 512."""
    if value is None:
        return
    if not isinstance(value, dict) or len(value) > _METADATA_PAIRS:
        raise invalid_request("`metadata` must be an object of at most 16 pairs", "metadata")
    for key, item in value.items():
        if len(key) > 64 or not isinstance(item, str) or len(item) > 512:
            raise invalid_request(
                "`metadata` keys are at most 64 characters, values strings of at most 512",
                "metadata",
            )


def _client_metadata(value: Any) -> None:
    """``client_metadata``: what a client says of itself (Codex: its installation, session and
    turn ids). Checked to be an object of strings, then ignored: neither forwarded to the
    provider nor echoed nor stored."""
    if value is None:
        return
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid_request(
            "`client_metadata` must be an object of string values", "client_metadata"
        )


def _with_cache_key(options: Any, key: str) -> Any:
    """``prompt_cache_key`` goes to OpenAI as its own (``providerOptions.openai.promptCacheKey``,
    unless the request set that); other providers have no equivalent and ignore it."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        return options  # chat's validation refuses it
    openai = options.get("openai") or {}
    if not isinstance(openai, dict) or "promptCacheKey" in openai:
        return options
    return {**options, "openai": {**openai, "promptCacheKey": key}}


def _chat_shape(data: dict[str, Any]) -> dict[str, Any]:
    """The options of the request as chat completions take them. ``messages`` is a stand-in
    (the input items become the messages): chat's validation of options needs a request."""
    chat: dict[str, Any] = {
        "model": data.get("model"),
        "messages": [{"role": "user", "content": ""}],
    }
    for key in ("temperature", "top_p", "parallel_tool_calls", "providerOptions", "models"):
        if data.get(key) is not None:
            chat[key] = data[key]
    user = data.get("user") or data.get("safety_identifier")
    if user is not None:
        chat["user"] = user
    tools = chat_tools(data["tools"]) if data.get("tools") is not None else []
    if tools:
        chat["tools"] = tools
    choice = data.get("tool_choice")
    if choice is not None and (tools or choice not in ("auto", "none")):
        chat["tool_choice"] = chat_tool_choice(choice)
    if data.get("prompt_cache_key") is not None:
        chat["providerOptions"] = _with_cache_key(
            chat.get("providerOptions"), data["prompt_cache_key"]
        )
    reasoning = data.get("reasoning")
    if reasoning is not None and (effort := _chat_reasoning(reasoning)):
        chat["reasoning"] = effort  # without an effort, the model's default
    return chat


def _chat_reasoning(value: Any) -> dict[str, Any]:
    """``reasoning.effort`` is chat's; ``summary`` is validated and needs nothing more: the
    reasoning a model shows is always given back as its summary."""
    if not isinstance(value, dict):
        raise invalid_request("`reasoning` must be an object", "reasoning")
    for key in ("summary", "generate_summary"):
        summary = value.get(key)
        if summary is not None and summary not in _SUMMARIES:
            raise invalid_request(
                f"`reasoning.{key}` must be one of auto, concise, detailed", f"reasoning.{key}"
            )
    unknown = sorted(set(value) - {"effort", "summary", "generate_summary"})
    if unknown:
        raise invalid_request(f"Unknown parameter: 'reasoning.{unknown[0]}'.", "reasoning")
    effort = value.get("effort")
    return {} if effort is None else {"effort": effort}


def _text_format(value: Any) -> router_pb2.ResponseFormat | None:
    """``text.format``: ``text``, ``json_object`` or ``json_schema`` (flat: name, schema,
    description, strict)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= {"format", "verbosity"}:
        raise invalid_request("`text` takes `format` and `verbosity`", "text")
    verbosity = value.get("verbosity")
    if verbosity is not None and verbosity not in _VERBOSITY:
        raise invalid_request("`text.verbosity` must be low, medium or high", "text.verbosity")
    fmt = value.get("format")
    if fmt is None:
        return None
    if not isinstance(fmt, dict):
        raise invalid_request("`text.format` must be an object", "text.format")
    kind = fmt.get("type")
    if kind in ("text", "json_object"):
        return router_pb2.ResponseFormat(type=kind)
    if kind != "json_schema":
        raise invalid_request(
            "`text.format.type` must be text, json_object or json_schema", "text.format.type"
        )
    spec = {k: v for k, v in fmt.items() if k != "type"}
    parsed = chat_options.response_format(
        {"response_format": {"type": "json_schema", "json_schema": spec}}
    )
    if parsed is None or not parsed.schema_json:
        raise invalid_request("`text.format.schema` is required", "text.format.schema")
    return parsed


def _echo(data: dict[str, Any]) -> dict[str, Any]:
    """The request's settings as the response object repeats them."""
    reasoning = data.get("reasoning") or {}
    text = data.get("text") or {}
    return {
        "instructions": data.get("instructions"),
        "max_output_tokens": data.get("max_output_tokens"),
        "metadata": data.get("metadata") or {},
        "parallel_tool_calls": data.get("parallel_tool_calls", True),
        "previous_response_id": data.get("previous_response_id"),
        "reasoning": {
            "effort": reasoning.get("effort"),
            "summary": reasoning.get("summary") or reasoning.get("generate_summary"),
        },
        "store": data.get("store", True),
        "temperature": data.get("temperature", 1.0),
        "text": {
            "format": text.get("format") or {"type": "text"},
            "verbosity": text.get("verbosity", "medium"),
        },
        "tool_choice": data.get("tool_choice", "auto"),
        "tools": data.get("tools") or [],
        "top_p": data.get("top_p", 1.0),
        "truncation": data.get("truncation", "disabled"),
        "user": data.get("user"),
    }
