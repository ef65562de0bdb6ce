"""Types of the provider seam: typed upstream calls and events, errors, the adapter protocol.

An adapter speaks one upstream wire protocol. ``open`` sends the request and returns once the
provider has answered with success (raising :class:`ProviderError` otherwise); the returned
stream yields the events of :mod:`tollgate_router.events`. Adapters translate; the router decides about retries and failover.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tollgate_router.domain import GenerationParams, Message
from tollgate_router.events import ProviderEvent

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


# -- what comes back: events of tollgate_router.events, or a ProviderError --------------------


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
