"""Typed values of a generation: the request as the servicer hands it over, and the routing
metadata its answer carries (its events are in :mod:`tollgate_router.events`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# -- request --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    url: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FilePart:
    data: str  # base64 or a data URI
    media_type: str = ""
    filename: str = ""


ContentPart = TextPart | ImagePart | FilePart


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    type: str = "function"


@dataclass(frozen=True, slots=True)
class ReasoningDetail:
    """One piece of reasoning from an earlier answer, sent back by the client."""

    type: str  # reasoning.text, reasoning.encrypted, reasoning.summary
    text: str = ""
    signature: str = ""
    data: str = ""
    format: str = ""  # anthropic-claude-v1, google-gemini-v1, openai-responses-v1, unknown


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    # A string, a list of parts, or None (JSON null: an assistant message that only calls tools).
    content: str | tuple[ContentPart, ...] | None
    name: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""
    reasoning_details: tuple[ReasoningDetail, ...] = ()


@dataclass(frozen=True, slots=True)
class FunctionTool:
    name: str
    description: str = ""
    parameters: Mapping[str, Any] | None = None  # JSON schema; None: takes no arguments
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """``mode`` auto / none / required, or ``function`` (the one the model must call)."""

    mode: str = "auto"
    function: str = ""


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    type: str = "text"  # text, json_object, json_schema
    name: str = ""
    description: str = ""
    schema: Mapping[str, Any] | None = None
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class Reasoning:
    enabled: bool | None = None
    max_tokens: int | None = None
    effort: str = ""  # none, minimal, low, medium, high, xhigh
    exclude: bool = False

    @property
    def wanted(self) -> bool:
        """The caller asked for reasoning (explicitly enabled, a budget or an effort)."""
        if self.enabled is False or self.effort == "none":
            return False
        return bool(self.enabled or self.max_tokens or self.effort)


@dataclass(frozen=True, slots=True)
class ToolOptions:
    tools: tuple[FunctionTool, ...] = ()
    choice: ToolChoice | None = None  # None: the provider's default
    parallel: bool | None = None


@dataclass(frozen=True, slots=True)
class GenerationParams:
    temperature: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    user: str = ""
    tools: ToolOptions = ToolOptions()
    response_format: ResponseFormat | None = None
    reasoning: Reasoning | None = None
    # Output modalities asked for (``modalities``); empty: text only.
    modalities: tuple[str, ...] = ()
    # The most output tokens, all choices together, the upstream request may allow: what billing
    # holds for the generation. Adapters shrink limits, thinking budgets and provider options
    # to fit it (providers/output_limits.py). None: nothing held, no cap.
    output_cap: int | None = None

    @property
    def wants_images(self) -> bool:
        return "image" in self.modalities


@dataclass(frozen=True, slots=True)
class ByokKey:
    """A provider key the request brought itself (``providerOptions.gateway.byok``)."""

    provider: str
    api_key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class RoutingOptions:
    order: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    models: tuple[str, ...] = ()  # fallback models, tried after the primary one
    byok: tuple[ByokKey, ...] = ()  # tried before the system credential of the same provider
    # ``sort``: "cost", "ttft" or "tps" ranks the providers not named in ``order``; "" keeps
    # the default order.
    sort: str = ""
    # ``has``: catalog tags a model must have (``!tag``: must not have).
    has: tuple[str, ...] = ()
    # Only providers whose catalog entry qualifies (``zeroDataRetention``,
    # ``disallowPromptTraining``).
    zero_data_retention: bool = False
    disallow_prompt_training: bool = False
    # ``providerTimeouts``: seconds to the first byte per provider, by credential type.
    byok_timeouts: Mapping[str, float] = field(default_factory=dict)
    system_timeouts: Mapping[str, float] = field(default_factory=dict)
    # The request's estimated size in tokens, what ``sort: "cost"`` prices.
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Caller:
    team_id: str = ""
    project_id: str = ""
    key_id: str = ""
    user_id: str = ""
    request_id: str = ""
    app_title: str = ""
    app_referer: str = ""
    # providerOptions.gateway.user / .tags: who and what the usage is attributed to.
    end_user: str = ""
    tags: tuple[str, ...] = ()
    # The public API the request came through ("messages"; empty: chat completions).
    surface: str = ""


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    model: str
    messages: tuple[Message, ...]
    params: GenerationParams = GenerationParams()
    stream: bool = False
    routing: RoutingOptions = RoutingOptions()
    caller: Caller = Caller()
    # Seconds left of the caller's deadline, if it set one.
    timeout: float | None = None
    # Client headers meant for the provider (lower-cased name → value), e.g. ``anthropic-beta``.
    provider_headers: Mapping[str, str] = field(default_factory=dict)
    # ``providerOptions.<provider>``: provider slug → its options (a JSON object).
    provider_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


# -- routing metadata -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attempt:
    """One provider considered for a generation (``skipped`` ones were never called)."""

    provider: str
    provider_model_id: str
    success: bool
    start_time: datetime | None = None
    end_time: datetime | None = None
    status_code: int = 0
    provider_response_id: str = ""
    error_message: str = ""
    credential_type: str = "system"
    skipped: bool = False
    model_id: str = ""  # the catalog model this attempt served (fallback models differ)


@dataclass(frozen=True, slots=True)
class Routing:
    original_model_id: str
    resolved_provider: str
    resolved_provider_api_model_id: str
    final_provider: str
    attempts: tuple[Attempt, ...]
    fallbacks_available: tuple[str, ...]
    canonical_slug: str
    planning_reasoning: str = ""
    # Providers passed over by the plan (never called), each with the reason.
    skipped: tuple[Attempt, ...] = ()


@dataclass(frozen=True, slots=True)
class GatewayMetadata:
    generation_id: str
    cost: str  # USD decimal strings
    market_cost: str
    routing: Routing
