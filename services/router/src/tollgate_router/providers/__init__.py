"""Provider adapters, one module per upstream wire protocol, chosen by a plain match."""

from __future__ import annotations

from dataclasses import dataclass

from tollgate_router.events import ProviderEvent, UsageReport
from tollgate_router.providers import (
    anthropic_wire,
    gemini_wire,
    openai_responses_wire,
    openai_wire,
)
from tollgate_router.providers.anthropic import AnthropicMessagesAdapter
from tollgate_router.providers.base import (
    ProviderAdapter,
    ProviderError,
    ProviderStream,
    UpstreamCall,
)
from tollgate_router.providers.directory import (
    OPENAI_CHAT,
    provider_info,
)
from tollgate_router.providers.embedding import (
    EmbeddingAdapter,
    EmbeddingCall,
    EmbeddingInput,
    EmbeddingResult,
)
from tollgate_router.providers.gemini import GeminiAdapter
from tollgate_router.providers.gemini_embeddings import GeminiEmbeddingsAdapter
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.providers.openai_chat import OpenAIChatAdapter
from tollgate_router.providers.openai_embeddings import OpenAIEmbeddingsAdapter
from tollgate_router.providers.openai_responses import OpenAIResponsesAdapter
from tollgate_router.providers.output_limits import Output, allowed_output

__all__ = [
    "Adapters",
    "EmbeddingAdapter",
    "EmbeddingCall",
    "EmbeddingInput",
    "EmbeddingResult",
    "Output",
    "ProviderAdapter",
    "ProviderError",
    "ProviderEvent",
    "ProviderStream",
    "UpstreamCall",
    "UsageReport",
    "build_adapters",
    "planned_output",
]


@dataclass(frozen=True)
class Adapters:
    """One adapter per wire protocol, sharing the process's HTTP client."""

    openai_chat: ProviderAdapter
    # None: not built (a protocol without an adapter is skipped by routing).
    anthropic_messages: ProviderAdapter | None = None
    google_gemini: ProviderAdapter | None = None
    # The embeddings seam, by the same wire protocols (None: that API's embeddings not spoken).
    openai_embeddings: EmbeddingAdapter | None = None
    google_embeddings: EmbeddingAdapter | None = None
    # OpenAI's Responses API, for the offers whose catalog entry names it.
    openai_responses: ProviderAdapter | None = None

    def for_protocol(self, wire_protocol: str) -> ProviderAdapter | None:
        match wire_protocol:
            case "openai-chat":
                return self.openai_chat
            case "anthropic-messages":
                return self.anthropic_messages
            case "google-gemini":
                return self.google_gemini
            case "openai-responses":
                return self.openai_responses
            case _:
                return None

    def embeddings_for(self, provider: str, wire_protocol: str = "") -> EmbeddingAdapter | None:
        """The embeddings adapter of ``provider`` (a catalog entry's own ``wire_protocol`` wins)."""
        match wire_protocol or _protocol_of(provider):
            case "openai-chat" | "openai-responses":
                return self.openai_embeddings
            case "google-gemini":
                return self.google_embeddings
            case _:
                return None

    def for_provider(self, provider: str, wire_protocol: str = "") -> ProviderAdapter | None:
        """The adapter of ``provider`` (a catalog entry's own ``wire_protocol`` wins)."""
        if not wire_protocol:
            info = provider_info(provider)
            wire_protocol = info.wire_protocol if info is not None else OPENAI_CHAT
        return self.for_protocol(wire_protocol)


def build_adapters(client: HttpClient) -> Adapters:
    return Adapters(
        openai_chat=OpenAIChatAdapter(client),
        anthropic_messages=AnthropicMessagesAdapter(client),
        google_gemini=GeminiAdapter(client),
        openai_embeddings=OpenAIEmbeddingsAdapter(client),
        google_embeddings=GeminiEmbeddingsAdapter(client),
        openai_responses=OpenAIResponsesAdapter(client),
    )


def planned_output(provider: str, wire_protocol: str, call: UpstreamCall) -> Output:
    """The output ``call``'s request body would allow, built as ``provider``'s adapter builds
    it (raises the adapter's 400 :class:`ProviderError` for what that API cannot take)."""
    wire_protocol = wire_protocol or _protocol_of(provider)
    match wire_protocol:
        case "openai-chat":
            body = openai_wire.request_body(call)
        case "anthropic-messages":
            body = anthropic_wire.request_body(call)
        case "google-gemini":
            body = gemini_wire.request_body(call)
        case "openai-responses":
            body = openai_responses_wire.request_body(call)
        case _:
            return Output(call.max_output_tokens)
    return allowed_output(body, wire_protocol, call.max_output_tokens)


def _protocol_of(provider: str) -> str:
    info = provider_info(provider)
    return info.wire_protocol if info is not None else OPENAI_CHAT
