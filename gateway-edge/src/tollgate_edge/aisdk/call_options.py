"""LanguageModelV2 call options (the body of ``POST /v1/ai/language-model``) as the equivalent
OpenAI chat completion request, which ``chat_request`` then validates into the router's RPC.

The AI SDK client sends the options object as its model gets it (docs/ai-sdk.md):
``prompt`` (system / user / assistant / tool messages of typed parts), sampling settings,
``tools`` / ``toolChoice``, ``responseFormat`` and ``providerOptions`` (the gateway's routing
options under ``gateway``). What has no equivalent becomes a V2 call warning instead of an
error, as the AI SDK's own providers do (``topK``, provider-defined tools).

Every problem is a 400 naming the AI SDK's own field (``prompt[2].content[0]``, ``maxOutputTokens``).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from tollgate_edge.aisdk.versions import V2, Spec
from tollgate_edge.errors import ApiError, invalid_request

Warning_ = dict[str, Any]

_PROMPT = "prompt"
_URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# The options that keep their meaning under another name (OpenAI's → the AI SDK's).
_RENAMED = {
    "maxOutputTokens": "max_tokens",
    "temperature": "temperature",
    "topP": "top_p",
    "presencePenalty": "presence_penalty",
    "frequencyPenalty": "frequency_penalty",
    "stopSequences": "stop",
    "seed": "seed",
}
_PARAM_NAMES = {openai: sdk for sdk, openai in _RENAMED.items()} | {
    "tools": "tools",
    "tool_choice": "toolChoice",
    "response_format": "responseFormat",
    "messages": _PROMPT,
    "reasoning": "providerOptions",
    "user": "providerOptions.gateway.user",
}


def _object(value: Any, where: str, param: str = _PROMPT) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_request(f"`{where}` must be an object", param)
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise invalid_request(f"`{where}` must be a string", _PROMPT)
    return value


def _parts(message: dict[str, Any], where: str) -> list[dict[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list):
        raise invalid_request(f"`{where}.content` must be an array of parts", _PROMPT)
    return [_object(part, f"{where}.content[{i}]") for i, part in enumerate(content)]


# -- prompt -------------------------------------------------------------------------------------


def _file_url(part: dict[str, Any], where: str) -> tuple[str, str]:
    """A file part's data as a URL (``https:``, or a ``data:`` URL for base64) and media type:
    the client sends an absolute URL, a data URL or bare base64."""
    data = _text(part.get("data"), f"{where}.data")
    media_type = part.get("mediaType")
    if not isinstance(media_type, str) or not media_type:
        raise invalid_request(f"`{where}.mediaType` must be a non-empty string", _PROMPT)
    if not data:
        raise invalid_request(f"`{where}.data` must not be empty", _PROMPT)
    if _URL_SCHEME.match(data):
        return data, media_type
    return f"data:{media_type};base64,{data}", media_type


def _user_part(part: dict[str, Any], where: str) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "text": _text(part.get("text"), f"{where}.text")}
    if kind == "file":
        url, media_type = _file_url(part, where)
        if media_type.startswith("image/"):
            return {"type": "image_url", "image_url": {"url": url}}
        file: dict[str, Any] = {"data": url, "media_type": media_type}
        if isinstance(part.get("filename"), str):
            file["filename"] = part["filename"]
        return {"type": "file", "file": file}
    raise invalid_request(f"`{where}.type` must be 'text' or 'file' in a user message", _PROMPT)


def _reasoning_detail(part: dict[str, Any], where: str) -> dict[str, Any]:
    """A reasoning part sent back: what the gateway said about it (``providerMetadata.gateway``,
    returned by the client as ``providerOptions.gateway``) lets the provider that wrote it
    check its signature or read its encrypted form; other providers leave it out."""
    text = _text(part.get("text", ""), f"{where}.text")
    options = part.get("providerOptions")
    gateway = options.get("gateway") if isinstance(options, dict) else None
    gateway = gateway if isinstance(gateway, dict) else {}
    detail: dict[str, Any] = {"type": "reasoning.text", "text": text, "format": "unknown"}
    for key in ("format", "signature", "data"):
        if isinstance(gateway.get(key), str):
            detail[key] = gateway[key]
    if "data" in detail:
        detail["type"] = "reasoning.encrypted"
    return detail


def _tool_output(part: dict[str, Any], where: str) -> str:
    """A tool result's ``output`` as the text of a ``tool`` message."""
    output = _object(part.get("output"), f"{where}.output")
    kind = output.get("type")
    value = output.get("value")
    if kind in ("text", "error-text"):
        return _text(value, f"{where}.output.value")
    if kind in ("json", "error-json"):
        return orjson.dumps(value).decode()
    if kind == "content" and isinstance(value, list):
        return "".join(
            item["text"]
            for item in value
            if isinstance(item, dict)
            and item.get("type") == "text"
            and isinstance(item.get("text"), str)
        )
    if kind == "execution-denied":  # V3: the user refused to run the tool
        reason = output.get("reason")
        return (
            f"Tool execution denied: {reason}"
            if isinstance(reason, str)
            else "Tool execution denied"
        )
    raise invalid_request(
        f"`{where}.output.type` must be text, json, error-text, error-json, content or "
        "execution-denied",
        _PROMPT,
    )


def _assistant(message: dict[str, Any], where: str) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    details: list[dict[str, Any]] = []
    for i, part in enumerate(_parts(message, where)):
        at = f"{where}.content[{i}]"
        kind = part.get("type")
        if kind == "text":
            texts.append(_text(part.get("text"), f"{at}.text"))
        elif kind == "reasoning":
            details.append(_reasoning_detail(part, at))
        elif kind == "tool-call":
            if part.get("providerExecuted"):
                continue  # ran on the provider's side: nothing for the model to answer
            calls.append(
                {
                    "id": _text(part.get("toolCallId"), f"{at}.toolCallId"),
                    "type": "function",
                    "function": {
                        "name": _text(part.get("toolName"), f"{at}.toolName"),
                        "arguments": orjson.dumps(part.get("input", {})).decode(),
                    },
                }
            )
        elif kind not in ("file", "tool-result"):
            raise invalid_request(f"`{at}.type` {kind!r} is not an assistant part", _PROMPT)
    text = "".join(texts)
    rendered: dict[str, Any] = {
        "role": "assistant",
        "content": None if calls and not text else text,
    }
    if calls:
        rendered["tool_calls"] = calls
    if details:
        rendered["reasoning_details"] = details
    return rendered


def _message(raw: Any, index: int) -> list[dict[str, Any]]:
    """One V2 message as OpenAI messages (a tool message holds one result per OpenAI message)."""
    where = f"prompt[{index}]"
    message = _object(raw, where)
    role = message.get("role")
    if role == "system":
        return [{"role": "system", "content": _text(message.get("content"), f"{where}.content")}]
    if role == "user":
        parts = [
            _user_part(p, f"{where}.content[{i}]") for i, p in enumerate(_parts(message, where))
        ]
        if not parts:
            raise invalid_request(f"`{where}.content` must not be empty", _PROMPT)
        if len(parts) == 1 and parts[0]["type"] == "text":
            return [{"role": "user", "content": parts[0]["text"]}]
        return [{"role": "user", "content": parts}]
    if role == "assistant":
        return [_assistant(message, where)]
    if role == "tool":
        return [
            {
                "role": "tool",
                "tool_call_id": _text(part.get("toolCallId"), f"{where}.content[{i}].toolCallId"),
                "content": _tool_output(part, f"{where}.content[{i}]"),
            }
            for i, part in enumerate(_parts(message, where))
            if part.get("type") == "tool-result"
        ]
    raise invalid_request(f"`{where}.role` must be one of system, user, assistant, tool", _PROMPT)


def _messages(prompt: Any) -> list[dict[str, Any]]:
    if not isinstance(prompt, list) or not prompt:
        raise invalid_request("`prompt` is required and must be a non-empty array", _PROMPT)
    return [rendered for i, raw in enumerate(prompt) for rendered in _message(raw, i)]


# -- tools, output format, reasoning ------------------------------------------------------------


def _tools(raw: Any, spec: Spec, warnings: list[Warning_]) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise invalid_request("`tools` must be an array", "tools")
    tools = []
    for i, item in enumerate(raw):
        tool = _object(item, f"tools[{i}]", "tools")
        if tool.get("type") != "function":
            warnings.append(spec.unsupported_tool(tool))
            continue
        function: dict[str, Any] = {"name": tool.get("name")}
        if tool.get("description") is not None:
            function["description"] = tool["description"]
        if tool.get("inputSchema") is not None:
            function["parameters"] = tool["inputSchema"]
        tools.append({"type": "function", "function": function})
    return tools


def _tool_choice(raw: Any) -> Any:
    if raw is None:
        return None
    choice = _object(raw, "toolChoice", "toolChoice")
    kind = choice.get("type")
    if kind in ("auto", "none", "required"):
        return kind
    if kind == "tool":
        return {"type": "function", "function": {"name": choice.get("toolName")}}
    raise invalid_request(
        "`toolChoice.type` must be auto, none, required or tool", "toolChoice.type"
    )


def _response_format(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    fmt = _object(raw, "responseFormat", "responseFormat")
    if fmt.get("type") == "text":
        return {"type": "text"}
    if fmt.get("type") == "json":
        # chat_request's legacy form {type: "json", schema?, name?, description?}: the same fields.
        return {k: fmt[k] for k in ("type", "schema", "name", "description") if k in fmt}
    raise invalid_request("`responseFormat.type` must be text or json", "responseFormat.type")


def _reasoning(provider_options: dict[str, Any]) -> dict[str, Any] | None:
    """Reasoning asked for the AI SDK way, in the upstream provider's options: OpenAI's
    ``reasoningEffort``, Anthropic's ``thinking.budgetTokens``, Gemini's
    ``thinkingConfig.thinkingBudget``."""
    openai = provider_options.get("openai")
    if isinstance(openai, dict) and isinstance(openai.get("reasoningEffort"), str):
        return {"effort": openai["reasoningEffort"]}
    anthropic = provider_options.get("anthropic")
    thinking = anthropic.get("thinking") if isinstance(anthropic, dict) else None
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budgetTokens")
        return {"enabled": True} if budget is None else {"max_tokens": budget}
    google = provider_options.get("google")
    config = google.get("thinkingConfig") if isinstance(google, dict) else None
    if isinstance(config, dict) and config.get("thinkingBudget") is not None:
        return {"max_tokens": config["thinkingBudget"]}
    return None


# -- the whole request --------------------------------------------------------------------------


def chat_request_body(
    options: dict[str, Any], model: str, stream: bool, spec: Spec = V2
) -> tuple[dict[str, Any], list[Warning_]]:
    """The OpenAI chat completion request these call options ask for, and the warnings about
    what it leaves out."""
    warnings: list[Warning_] = []
    body: dict[str, Any] = {
        "model": model,
        "stream": stream,
        "messages": _messages(options.get(_PROMPT)),
    }
    for sdk_name, openai_name in _RENAMED.items():
        if options.get(sdk_name) is not None:
            body[openai_name] = options[sdk_name]
    if options.get("topK") is not None:
        warnings.append(spec.unsupported_setting("topK"))
    if (tools := _tools(options.get("tools"), spec, warnings)) is not None:
        body["tools"] = tools
    if (choice := _tool_choice(options.get("toolChoice"))) is not None:
        body["tool_choice"] = choice
    if (fmt := _response_format(options.get("responseFormat"))) is not None:
        body["response_format"] = fmt
    provider_options = options.get("providerOptions")
    if provider_options is not None:
        provider_options = _object(provider_options, "providerOptions", "providerOptions")
        body["providerOptions"] = provider_options  # chat_request reads `gateway` from it
        if (reasoning := _reasoning(provider_options)) is not None:
            body["reasoning"] = reasoning
        gateway = provider_options.get("gateway")
        if isinstance(gateway, dict) and gateway.get("user") is not None:
            body["user"] = gateway["user"]
    return body, warnings


def renamed(error: ApiError) -> ApiError:
    """``error`` about the OpenAI request, told in the AI SDK's names (``max_tokens`` →
    ``maxOutputTokens``, ``tools[0].function.name`` → ``tools[0].name``)."""
    param = error.param
    if param is None:
        return error
    head = re.split(r"[.\[]", param, maxsplit=1)[0]
    if head not in _PARAM_NAMES:
        return error
    new = _PARAM_NAMES[head] + param[len(head) :]
    new = new.replace(".function.parameters", ".inputSchema").replace(".function.", ".")
    message = error.message.replace(f"`{param}`", f"`{new}`").replace(
        f"`{head}`", f"`{_PARAM_NAMES[head]}`"
    )
    return ApiError(error.status, error.type, message, param=new, code=error.code)
