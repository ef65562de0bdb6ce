"""The embeddings seam: a typed call up, vectors and token usage back, and the one HTTP exchange
(POST JSON, read the whole JSON answer) every embeddings API needs.

An :class:`EmbeddingAdapter` speaks one provider API's embeddings endpoint. It returns floats
whatever the provider's encoding, one vector per input in input order, or raises
:class:`ProviderError`; the router decides about failover.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from tollgate_router.providers.base import ProviderError
from tollgate_router.providers.http_client import HttpClient, HttpError
from tollgate_router.providers.transport import post, read_body

# One input: text, or token ids of the model's tokenizer.
EmbeddingInput = str | tuple[int, ...]


@dataclass(frozen=True, slots=True)
class EmbeddingCall:
    base_url: str
    api_key: str
    provider_model_id: str
    inputs: tuple[EmbeddingInput, ...]
    dimensions: int | None = None
    user: str = ""
    timeout: float | None = None  # total seconds, from the caller's deadline

    def __repr__(self) -> str:  # never the key or the inputs
        return f"EmbeddingCall(model={self.provider_model_id!r}, inputs={len(self.inputs)})"


@dataclass(frozen=True, slots=True)
class EmbeddingResult:
    vectors: tuple[tuple[float, ...], ...]
    input_tokens: int
    # The provider reported no token count: ``input_tokens`` is Tollgate's estimate.
    estimated: bool = False
    response_id: str = ""


class EmbeddingAdapter(Protocol):
    @property
    def takes_token_ids(self) -> bool:
        """Whether the API embeds token-id inputs as well as text (routing skips it for a
        request with token arrays otherwise)."""
        ...

    async def embed(self, call: EmbeddingCall) -> EmbeddingResult: ...


def estimate_tokens(texts: tuple[str, ...]) -> int:
    """A rough count (4 characters a token, at least one a non-empty input) for providers that
    report none."""
    return sum(-(-len(text) // 4) for text in texts)


async def post_json(
    client: HttpClient,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    deadline: float | None,
    parse_error: Callable[[int, bytes], ProviderError],
) -> bytes:
    """POST ``body``; the whole answer's bytes on HTTP 200, else ``parse_error(status, body)``.
    No answer (connection refused, timeout, a body cut short) is a status-0 ProviderError."""
    try:
        response = await post(client, url, body, headers, deadline)
        try:
            raw = await read_body(response)
        finally:
            response.release()
        status = response.status
    except TimeoutError as exc:
        raise ProviderError(0, "timed out waiting for the provider", type="timeout") from exc
    except HttpError as exc:
        raise ProviderError(
            0, f"cannot reach the provider ({type(exc).__name__})", type="api_error"
        ) from exc
    if status != 200:
        raise parse_error(status, raw)
    return raw
