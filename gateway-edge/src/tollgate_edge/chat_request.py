"""Parse and validate an OpenAI chat completion request into a StreamGenerateRequest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tollgate.router.v1 import router_pb2

from tollgate_edge import chat_options, chat_parts
from tollgate_edge.errors import invalid_request
from tollgate_edge.json_body import json_object
from tollgate_edge.provider_options import provider_options

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_INT64 = (-(2**63), 2**63 - 1)
_MAX_TOKENS = (1, 2**31 - 1)
_MESSAGES = "messages"
_MAX_STOP = 4  # OpenAI's limit, and Vercel's
_MODALITIES = frozenset({"text", "image"})  # output modalities of a chat completion


@dataclass(frozen=True, slots=True)
class ChatRequest:
    rpc: router_pb2.StreamGenerateRequest
    stream: bool
    include_usage: bool
    # The model reasons, but the answer leaves its reasoning out.
    exclude_reasoning: bool = False


def parse_chat_request(body: bytes, caller: router_pb2.CallerContext) -> ChatRequest:
    """Validate ``body``; every problem is a 400 ``invalid_request_error`` naming its param."""
    return chat_request_from(json_object(body), caller)


def chat_request_from(data: dict[str, Any], caller: router_pb2.CallerContext) -> ChatRequest:
    """The same for an already decoded request (the AI SDK protocol builds one)."""
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid_request("`model` is required and must be a non-empty string", "model")
    _reject_unsupported(data)
    stream = _optional_bool(data, "stream")
    declared = chat_options.tools(data)
    rpc = router_pb2.StreamGenerateRequest(
        caller=caller,
        model=model.strip(),
        messages=_messages(data.get("messages")),
        params=_params(data),
        stream=stream,
        routing=_routing(data),
        tools=declared,
        tool_choice=chat_options.tool_choice(data, declared),
        parallel_tool_calls=chat_options.optional_flag(
            data, "parallel_tool_calls", "parallel_tool_calls"
        ),
        response_format=chat_options.response_format(data),
        reasoning=chat_options.reasoning(data),
        modalities=_modalities(data),
        provider_options=provider_options(data),
    )
    return ChatRequest(
        rpc=rpc,
        stream=stream,
        include_usage=_include_usage(data),
        exclude_reasoning=rpc.HasField("reasoning") and rpc.reasoning.exclude,
    )


def _reject_unsupported(data: dict[str, Any]) -> None:
    n = data.get("n")
    if n is not None and n != 1:
        raise invalid_request("only `n: 1` is supported", "n")
    if data.get("functions"):
        raise invalid_request("`functions` is deprecated: use `tools`", "functions")


def _modalities(data: dict[str, Any]) -> list[str]:
    """``modalities``: the output wanted, ``["text", "image"]`` or ``["image"]``."""
    raw = data.get("modalities")
    if raw is None:
        return []
    if not isinstance(raw, list) or not raw or not all(isinstance(m, str) for m in raw):
        raise invalid_request("`modalities` must be a non-empty array of strings", "modalities")
    unknown = sorted({m for m in raw if m not in _MODALITIES})
    if unknown:
        raise invalid_request(
            f"`modalities` may hold text and image, not {', '.join(unknown)}", "modalities"
        )
    return list(dict.fromkeys(raw))


def _optional_bool(data: dict[str, Any], key: str, param: str | None = None) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid_request(f"`{param or key}` must be a boolean", param or key)
    return value


def _include_usage(data: dict[str, Any]) -> bool:
    options = data.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise invalid_request("`stream_options` must be an object", "stream_options")
    return _optional_bool(options, "include_usage", "stream_options.include_usage")


# --- messages -----------------------------------------------------------------------------


def _messages(raw: Any) -> list[router_pb2.ChatMessage]:
    if not isinstance(raw, list) or not raw:
        raise invalid_request("`messages` is required and must be a non-empty array", _MESSAGES)
    return [_message(item, index) for index, item in enumerate(raw)]


def _message(raw: Any, index: int) -> router_pb2.ChatMessage:
    where = f"messages[{index}]"
    if not isinstance(raw, dict):
        raise invalid_request(f"{where} must be an object", _MESSAGES)
    role = raw.get("role")
    if role not in _ROLES:
        raise invalid_request(f"{where}.role must be one of {', '.join(sorted(_ROLES))}", _MESSAGES)
    fields: dict[str, Any] = {"role": role}
    content = raw.get("content")
    if isinstance(content, str):
        fields["text"] = content
    elif isinstance(content, list):
        if not content:
            raise invalid_request(f"{where}.content must not be an empty array", _MESSAGES)
        parts = [chat_parts.part(p, f"{where}.content[{i}]") for i, p in enumerate(content)]
        fields["parts"] = router_pb2.ContentParts(parts=parts)
    elif content is not None:
        raise invalid_request(f"{where}.content must be a string, an array or null", _MESSAGES)
    name = raw.get("name")
    if name is not None:
        fields["name"] = _string(name, f"{where}.name")
    tool_calls = raw.get("tool_calls")
    if tool_calls is not None:
        if role != "assistant" or not isinstance(tool_calls, list):
            raise invalid_request(
                f"{where}.tool_calls must be an array on an assistant message", _MESSAGES
            )
        fields["tool_calls"] = [
            _tool_call(c, f"{where}.tool_calls[{i}]") for i, c in enumerate(tool_calls)
        ]
    details = raw.get("reasoning_details")
    if details is not None and role == "assistant":
        fields["reasoning_details"] = chat_options.reasoning_details(details, where, _MESSAGES)
    tool_call_id = raw.get("tool_call_id")
    if tool_call_id is not None:
        fields["tool_call_id"] = _string(tool_call_id, f"{where}.tool_call_id")
    elif role == "tool":
        raise invalid_request(f"{where}.tool_call_id is required on a tool message", _MESSAGES)
    if content is None and not (role == "assistant" and tool_calls):
        raise invalid_request(f"{where}.content is required", _MESSAGES)
    return router_pb2.ChatMessage(**fields)


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise invalid_request(f"{where} must be a string", _MESSAGES)
    return value


def _tool_call(raw: Any, where: str) -> router_pb2.ToolCall:
    if not isinstance(raw, dict):
        raise invalid_request(f"{where} must be an object", _MESSAGES)
    function = raw.get("function")
    if not isinstance(function, dict):
        raise invalid_request(f"{where}.function must be an object", _MESSAGES)
    return router_pb2.ToolCall(
        id=_string(raw.get("id"), f"{where}.id"),
        type=_string(raw.get("type", "function"), f"{where}.type"),
        name=_string(function.get("name"), f"{where}.function.name"),
        arguments=_string(function.get("arguments", ""), f"{where}.function.arguments"),
    )


# --- params and routing ---------------------------------------------------------------------


def _params(data: dict[str, Any]) -> router_pb2.GenerationParams:
    fields: dict[str, Any] = {}
    for key, low, high in (
        ("temperature", 0.0, 2.0),
        ("top_p", 0.0, 1.0),
        ("frequency_penalty", -2.0, 2.0),
        ("presence_penalty", -2.0, 2.0),
    ):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid_request(f"`{key}` must be a number", key)
        if not low <= value <= high:
            raise invalid_request(f"`{key}` must be between {low:g} and {high:g}", key)
        fields[key] = float(value)
    for key, (low, high) in (
        ("max_tokens", _MAX_TOKENS),
        ("max_completion_tokens", _MAX_TOKENS),
        ("seed", _INT64),
    ):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_request(f"`{key}` must be an integer", key)
        if not low <= value <= high:
            raise invalid_request(f"`{key}` must be between {low} and {high}", key)
        fields[key] = value
    stop = data.get("stop")
    if isinstance(stop, str):
        fields["stop"] = [stop]
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        if len(stop) > _MAX_STOP:
            raise invalid_request(f"`stop` takes at most {_MAX_STOP} sequences", "stop")
        fields["stop"] = stop
    elif stop is not None:
        raise invalid_request("`stop` must be a string or an array of strings", "stop")
    user = data.get("user")
    if user is not None:
        if not isinstance(user, str):
            raise invalid_request("`user` must be a string", "user")
        fields["user"] = user
    return router_pb2.GenerationParams(**fields)


def _string_list(container: dict[str, Any], key: str, param: str) -> list[str]:
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise invalid_request(f"`{param}` must be an array of non-empty strings", param)
    return value


def _routing(data: dict[str, Any]) -> router_pb2.RoutingOptions:
    gateway: dict[str, Any] = {}
    options = data.get("providerOptions")
    if options is not None:
        if not isinstance(options, dict):
            raise invalid_request("`providerOptions` must be an object", "providerOptions")
        gateway = options.get("gateway") or {}
        if not isinstance(gateway, dict):
            raise invalid_request(
                "`providerOptions.gateway` must be an object", "providerOptions.gateway"
            )
    prefix = "providerOptions.gateway."
    models = _string_list(gateway, "models", prefix + "models")
    models += [m for m in _string_list(data, "models", "models") if m not in models]
    byok_timeouts, system_timeouts = _provider_timeouts(
        gateway.get("providerTimeouts"), prefix + "providerTimeouts"
    )
    return router_pb2.RoutingOptions(
        order=_string_list(gateway, "order", prefix + "order"),
        only=_string_list(gateway, "only", prefix + "only"),
        models=models,
        byok=_byok(gateway.get("byok"), prefix + "byok"),
        user=_attribution_user(gateway.get("user"), prefix + "user") or _openai_user(data),
        tags=_tags(gateway.get("tags"), prefix + "tags"),
        sort=_sort(gateway.get("sort"), prefix + "sort"),
        has=_has(gateway.get("has"), prefix + "has"),
        zero_data_retention=_optional_bool(
            gateway, "zeroDataRetention", prefix + "zeroDataRetention"
        ),
        disallow_prompt_training=_optional_bool(
            gateway, "disallowPromptTraining", prefix + "disallowPromptTraining"
        ),
        byok_timeouts_ms=byok_timeouts,
        system_timeouts_ms=system_timeouts,
    )


SORTS = ("cost", "ttft", "tps")
# The catalog's capability tags ``has`` may name; ``!tag`` asks for models without it.
CAPABILITIES = (
    "reasoning",
    "tool-use",
    "vision",
    "structured-output",
    "implicit-caching",
    "explicit-caching",
    "file-input",
    "image-generation",
)
# Ceiling of a providerTimeouts value (ms): ten minutes, past any first byte worth waiting for.
MAX_PROVIDER_TIMEOUT_MS = 600_000


def _sort(value: Any, param: str) -> str:
    """``sort``: which measure ranks the providers (lowest cost, lowest ttft, highest tps)."""
    if value is None:
        return ""
    if value not in SORTS:
        raise invalid_request(f"`{param}` must be one of {', '.join(SORTS)}", param)
    return str(value)


def _has(value: Any, param: str) -> list[str]:
    """``has``: capabilities the model must have (``"!vision"``: must not have)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_request(f"`{param}` must be a capability or an array of them", param)
    unknown = [v for v in value if v.removeprefix("!") not in CAPABILITIES]
    if unknown:
        raise invalid_request(
            f"`{param}` has unknown capabilities {', '.join(unknown)}; known: "
            f"{', '.join(CAPABILITIES)} (negate with '!')",
            param,
        )
    return list(dict.fromkeys(value))


def _provider_timeouts(value: Any, param: str) -> tuple[dict[str, int], dict[str, int]]:
    """``{"byok": {"<provider>": ms}, "system": {"<provider>": ms}}``."""
    if value is None:
        return {}, {}
    if not isinstance(value, dict) or not set(value) <= {"byok", "system"}:
        raise invalid_request(
            f"`{param}` must be an object with `byok` and/or `system` (provider → milliseconds)",
            param,
        )
    found: list[dict[str, int]] = []
    for kind in ("byok", "system"):
        entries = value.get(kind)
        if entries is None:
            entries = {}
        where = f"{param}.{kind}"
        if not isinstance(entries, dict):
            raise invalid_request(f"`{where}` must be an object of provider → milliseconds", where)
        for provider, ms in entries.items():
            if isinstance(ms, bool) or not isinstance(ms, int) or ms < 1:
                raise invalid_request(
                    f"`{where}.{provider}` must be a positive integer (ms)", where
                )
            if ms > MAX_PROVIDER_TIMEOUT_MS:
                raise invalid_request(
                    f"`{where}.{provider}` must be at most {MAX_PROVIDER_TIMEOUT_MS} ms", where
                )
        found.append(dict(entries))
    return found[0], found[1]


def _openai_user(data: dict[str, Any]) -> str:
    """The OpenAI ``user`` field attributes the spend like ``providerOptions.gateway.user``
    (which wins when both are set); what billing cannot store of it is cut, since OpenAI
    allows it."""
    user = data.get("user")
    if not isinstance(user, str):
        return ""
    return user.replace("\x00", "")[:MAX_ATTRIBUTION_CHARS]


# What billing stores of the attribution (services/billing: end_user and tags columns).
MAX_ATTRIBUTION_CHARS = 200
MAX_TAGS = 50


def _attribution_text(value: str, param: str) -> str:
    if len(value) > MAX_ATTRIBUTION_CHARS or "\x00" in value:
        raise invalid_request(
            f"`{param}` must be at most {MAX_ATTRIBUTION_CHARS} characters, without NUL", param
        )
    return value


def _attribution_user(value: Any, param: str) -> str:
    """``providerOptions.gateway.user``: the end user the spend is attributed to."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_request(f"`{param}` must be a string", param)
    return _attribution_text(value, param)


def _tags(value: Any, param: str) -> list[str]:
    """``providerOptions.gateway.tags``: reporting tags, each counted once."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise invalid_request(f"`{param}` must be an array of non-empty strings", param)
    if len(value) > MAX_TAGS:
        raise invalid_request(f"`{param}` takes at most {MAX_TAGS} tags", param)
    return [_attribution_text(tag, param) for tag in dict.fromkeys(value)]


def _byok(value: Any, param: str) -> list[router_pb2.ByokCredential]:
    """``{"<provider>": [{"apiKey": "..."}, ...]}``: request-scoped credentials, in order."""
    if value is None:
        return []
    if not isinstance(value, dict):
        raise invalid_request(f"`{param}` must be an object of provider → credentials", param)
    credentials = []
    for provider, entries in value.items():
        where = f"{param}.{provider}"
        if not isinstance(entries, list) or not entries:
            raise invalid_request(f"`{where}` must be a non-empty array of credentials", where)
        for entry in entries:
            key = entry.get("apiKey") if isinstance(entry, dict) else None
            if not isinstance(key, str) or not key.strip():
                raise invalid_request(f"each `{where}` credential needs an `apiKey` string", where)
            credentials.append(router_pb2.ByokCredential(provider=provider, api_key=key.strip()))
    return credentials
