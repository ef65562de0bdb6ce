"""Types of the provider seam: typed upstream calls and events, errors, the adapter protocol.

An adapter speaks one upstream wire protocol. ``open`` sends the request and returns once the
provider has answered with success (raising :class:`ProviderError` otherwise); the returned
stream yields typed events. Adapters translate; the router decides about retries and failover.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tollgate_router.domain import GenerationParams, Message

# -- what goes up -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    base_url: str
    api_key: str
    provider_model_id: str
    messages: tuple[Message, ...]
    params: GenerationParams
    stream: bool
    timeout: float | None = None  # total seconds, from the caller's deadline
    # The catalog's max output tokens for the model (0: unknown), for APIs that require a limit.
    max_output_tokens: int = 0
    # Client headers meant for the provider (lower-cased name → value); each adapter sends only
    # those its API knows (``anthropic-beta`` for Anthropic).
    provider_headers: Mapping[str, str] = field(default_factory=dict)
    # ``providerOptions.<this provider>`` of the request; each adapter merges the fields its API
    # takes into the request body (providers/provider_options.py).
    provider_options: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # never the key or the prompt
        return f"UpstreamCall(model={self.provider_model_id!r}, stream={self.stream})"


# -- what comes back --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponseStart:
    response_id: str
    model: str
    created: int
    system_fingerprint: str


@dataclass(frozen=True, slots=True)
class ContentDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of tool call ``index`` (0-based among the response's tool calls), as in OpenAI's
    stream: ``id`` and ``name`` on its first delta, then JSON argument fragments."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """Reasoning text the model showed; ``signature`` (Anthropic thinking, Gemini thought
    signatures) and ``redacted`` (Anthropic's encrypted ``redacted_thinking``) come in their own
    deltas and must be sent back unchanged in a later turn."""

    text: str = ""
    signature: str = ""
    redacted: str = ""
    # Whose reasoning this is, as ``reasoning_details[].format`` says it.
    format: str = "unknown"


@dataclass(frozen=True, slots=True)
class ImageOutput:
    """One whole image the model generated, as a data URI (``data:image/png;base64,...``)."""

    url: str


@dataclass(frozen=True, slots=True)
class FinishReason:
    reason: str  # OpenAI's: stop, length, tool_calls, content_filter


@dataclass(frozen=True, slots=True)
class UsageReport:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    # The part of ``completion_tokens`` that encodes generated images (0 when the provider does
    # not say): an image priced by the image is not also priced as tokens.
    image_tokens: int = 0


ProviderEvent = (
    ResponseStart
    | ContentDelta
    | ToolCallDelta
    | ReasoningDelta
    | ImageOutput
    | FinishReason
    | UsageReport
)


class ProviderError(Exception):
    """An upstream failure. ``status`` is the HTTP status, 0 when no response arrived
    (connection error, timeout, stream cut)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "",
        code: str = "",
        param: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param

    def __repr__(self) -> str:
        return f"ProviderError(status={self.status}, type={self.type!r}, code={self.code!r})"


# -- the seam ---------------------------------------------------------------------------------


class ProviderStream(Protocol):
    def events(self) -> AsyncGenerator[ProviderEvent, None]:
        """The response's events, once (the generator releases the connection when closed)."""
        ...

    async def aclose(self) -> None:
        """Release the upstream connection (idempotent)."""


class ProviderAdapter(Protocol):
    async def open(self, call: UpstreamCall) -> ProviderStream: ...
