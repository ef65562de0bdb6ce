"""Upper estimates of a request's input tokens from its size, before any provider sees it: what
pre-flight holds for the prompt, what rate limits count, and what routing prices a provider's
offer at when it sorts by cost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from tollgate_router.domain import FilePart, GenerationParams, ImagePart, Message
from tollgate_router.providers import EmbeddingInput

# An upper estimate of tokens: no tokenizer yields fewer than one token per 2 bytes of UTF-8
# text in practice (English runs ~4 characters a token); plus framing per message.
_BYTES_PER_TOKEN = 2
_TOKENS_PER_MESSAGE = 8
_TOKENS_PER_IMAGE = 2000
_TOKENS_PER_TOOL = 16


def estimate_prompt_tokens(
    messages: tuple[Message, ...],
    params: GenerationParams | None = None,
    provider_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> int:
    """An upper estimate of a prompt's tokens from its size. Providers bill the tools (names,
    descriptions, JSON schemas), a response format's schema and what provider options add to
    the prompt as input too, so they count as their JSON text."""
    text_bytes, images, tokens = 0, 0, 0
    if params is not None:
        for tool in params.tools.tools:
            tokens += _TOKENS_PER_TOOL
            text_bytes += len(tool.name.encode()) + len(tool.description.encode())
            text_bytes += _json_bytes(tool.parameters) if tool.parameters else 0
        if (fmt := params.response_format) is not None and fmt.type != "text":
            tokens += _TOKENS_PER_TOOL
            text_bytes += len(fmt.name.encode()) + len(fmt.description.encode())
            text_bytes += _json_bytes(fmt.schema) if fmt.schema else 0
    if provider_options:
        text_bytes += _json_bytes(provider_options)
    for message in messages:
        tokens += _TOKENS_PER_MESSAGE
        text_bytes += len(message.name.encode()) + len(message.tool_call_id.encode())
        for call in message.tool_calls:
            text_bytes += len(call.name.encode()) + len(call.arguments.encode())
        if isinstance(message.content, str):
            text_bytes += len(message.content.encode())
        elif message.content is not None:
            for part in message.content:
                if isinstance(part, ImagePart):
                    images += 1
                elif isinstance(part, FilePart):
                    text_bytes += len(part.data) * 3 // 4  # base64 → bytes
                else:
                    text_bytes += len(part.text.encode())
    return tokens + -(-text_bytes // _BYTES_PER_TOKEN) + images * _TOKENS_PER_IMAGE


def _json_bytes(value: Mapping[str, Any]) -> int:
    return len(orjson.dumps(value, default=dict))


def estimate_embedding_tokens(inputs: tuple[EmbeddingInput, ...]) -> int:
    """An upper estimate of the tokens of embedding inputs (token ids count as themselves)."""
    tokens = 0
    for item in inputs:
        if isinstance(item, str):
            tokens += -(-len(item.encode()) // _BYTES_PER_TOKEN) + 1
        else:
            tokens += len(item)
    return tokens
