"""The one event vocabulary of a generation, from the adapter to the servicer.

An adapter yields :data:`ProviderEvent`: the deltas of the answer plus what only the provider
knows about it (its response id, its finish reason, its token counts). The generation service
passes the deltas on as they are (the same objects) and wraps them in what only it knows: the
generation it started, the usage it settled, the routing it did, a failure after the first byte
(:data:`GenerationEvent`). Nothing here is shaped after one client API: the servicer maps these
events to protobuf and the edge renders them for its surfaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tollgate_router.catalog.pricing import TokenUsage
from tollgate_router.domain import GatewayMetadata

# -- the answer's deltas (adapter → service → servicer, unchanged) ----------------------------


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of tool call ``index`` (0-based among the answer's tool calls): ``id`` and
    ``name`` on its first delta, then JSON argument fragments."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """Reasoning text the model showed; ``signature`` (Anthropic thinking, Gemini thought
    signatures) and ``data`` (Anthropic's encrypted ``redacted_thinking``) come in their own
    deltas and must be sent back unchanged in a later turn."""

    text: str = ""
    signature: str = ""
    data: str = ""
    # Whose reasoning this is: anthropic-claude-v1, google-gemini-v1, unknown.
    format: str = "unknown"


@dataclass(frozen=True, slots=True)
class ImageDelta:
    """One whole image the model generated: a data URI (``data:image/png;base64,...``) or an
    https URL."""

    url: str


Delta = TextDelta | ToolCallDelta | ReasoningDelta | ImageDelta

# -- what the provider says about its answer (adapter → service) ------------------------------


@dataclass(frozen=True, slots=True)
class ResponseStart:
    response_id: str
    model: str
    created: int
    system_fingerprint: str


@dataclass(frozen=True, slots=True)
class FinishReason:
    reason: str  # stop, length, tool_calls, content_filter


@dataclass(frozen=True, slots=True)
class UsageReport:
    """The provider's token counts, as it reported them."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    # The part of ``completion_tokens`` that encodes generated images (0 when the provider does
    # not say): an image priced by the image is not also priced as tokens.
    image_tokens: int = 0


ProviderEvent = ResponseStart | Delta | FinishReason | UsageReport

# -- what the service says about the generation (service → servicer) --------------------------


@dataclass(frozen=True, slots=True)
class RateLimitStatus:
    """The tightest rate limits a request counted in, for the client's ``x-ratelimit-*``
    headers: limits (0: not limited), what is left this minute, milliseconds to the reset."""

    limit_requests: int = 0
    remaining_requests: int = 0
    reset_requests_ms: int = 0
    limit_tokens: int = 0
    remaining_tokens: int = 0
    reset_tokens_ms: int = 0


@dataclass(frozen=True, slots=True)
class Started:
    generation_id: str
    model: str
    provider: str
    created: datetime
    provider_model_id: str
    system_fingerprint: str
    rate_limit: RateLimitStatus | None = None  # None: no rate limit applies


@dataclass(frozen=True, slots=True)
class UsageReported:
    usage: TokenUsage


@dataclass(frozen=True, slots=True)
class Finished:
    finish_reason: str
    gateway: GatewayMetadata


@dataclass(frozen=True, slots=True)
class Failed:
    """A failure after ``Started``: the stream ends with it. ``reason`` says what happened
    (``PROVIDER_ERROR``: the provider failed mid-answer), ``provider_status`` and ``code`` are
    the provider's own (0 and "" when it sent none)."""

    reason: str
    message: str
    provider_status: int = 0
    code: str = ""


GenerationEvent = Started | Delta | UsageReported | Finished | Failed
