"""``count_tokens``: an estimate of a prompt's input tokens by the rule the router's credit
pre-flight uses to size a request's hold (bytes of text, a fixed share per message, tool and
image). No provider is called: the estimate is the same for every model and errs high, so it
is an upper bound to plan a context window with, not the provider's exact count."""

from __future__ import annotations

from typing import Final

from tollgate.router.v1 import router_pb2

# The pre-flight's constants (the router's credit pre-flight): tokens are counted high.
_BYTES_PER_TOKEN: Final = 2
_TOKENS_PER_MESSAGE: Final = 8
_TOKENS_PER_IMAGE: Final = 2000
_TOKENS_PER_TOOL: Final = 16


def _message_bytes(message: router_pb2.ChatMessage) -> tuple[int, int]:
    """(text bytes, images) of one message."""
    size = len(message.name.encode()) + len(message.tool_call_id.encode())
    size += sum(len(c.name.encode()) + len(c.arguments.encode()) for c in message.tool_calls)
    size += sum(len(d.text.encode()) + len(d.data) for d in message.reasoning_details)
    images = 0
    if message.WhichOneof("content") == "text":
        size += len(message.text.encode())
    for part in message.parts.parts:
        kind = part.WhichOneof("part")
        if kind == "image_url":
            images += 1
        elif kind == "file":
            size += len(part.file.data) * 3 // 4  # base64 → bytes
        else:
            size += len(part.text.encode())
    return size, images


def estimate_input_tokens(rpc: router_pb2.StreamGenerateRequest) -> int:
    tokens, size, images = 0, 0, 0
    for tool in rpc.tools:
        tokens += _TOKENS_PER_TOOL
        size += len(tool.name.encode()) + len(tool.description.encode())
        size += len(tool.parameters_json.encode())
    for message in rpc.messages:
        tokens += _TOKENS_PER_MESSAGE
        text, found = _message_bytes(message)
        size += text
        images += found
    return tokens + -(-size // _BYTES_PER_TOKEN) + images * _TOKENS_PER_IMAGE
