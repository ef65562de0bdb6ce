"""Types of the provider seam: typed upstream calls and events, errors, the adapter protocol.

An adapter speaks one upstream wire protocol. ``open`` sends the request and returns once the
provider has answered with success (raising :class:`ProviderError` otherwise); the returned
stream yields typed events. Adapters translate; the router decides about retries and failover.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol

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
class FinishReason:
    reason: str


@dataclass(frozen=True, slots=True)
class UsageReport:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0


ProviderEvent = ResponseStart | ContentDelta | FinishReason | UsageReport


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
