"""The ``x-ratelimit-*`` headers of a rate-limited key's answers (served or refused), as
OpenAI sends them: the limit, what is left of it and when it resets (a duration like ``1s``,
``6m0s``, ``250ms``), for requests and for tokens."""

from __future__ import annotations

from tollgate.router.v1 import router_pb2


def duration(ms: int) -> str:
    """A reset time as OpenAI writes it: ``250ms``, ``1.5s``, ``59s``, ``6m0s``."""
    if ms < 1000:
        return f"{max(0, ms)}ms"
    if ms < 60_000:
        seconds = f"{ms / 1000:.3f}".rstrip("0").rstrip(".")
        return f"{seconds}s"
    minutes, rest = divmod(ms, 60_000)
    seconds = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    return f"{minutes}m{seconds}s"


def headers(kind: str, limit: int, remaining: int, reset_ms: int) -> dict[str, str]:
    """The three headers of one kind (``requests`` or ``tokens``); none for an unset limit."""
    if not limit or kind not in ("requests", "tokens"):
        return {}
    return {
        f"x-ratelimit-limit-{kind}": str(limit),
        f"x-ratelimit-remaining-{kind}": str(max(0, remaining)),
        f"x-ratelimit-reset-{kind}": duration(reset_ms),
    }


def _int(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() else 0


def refusal_headers(metadata: dict[str, str]) -> dict[str, str]:
    """The headers of a 429 from a refusal's ErrorInfo metadata (the limit that refused)."""
    return headers(
        metadata.get("type", ""),
        _int(metadata.get("limit", "")),
        _int(metadata.get("remaining", "")),
        _int(metadata.get("reset_ms", "")),
    )


def served_headers(status: router_pb2.RateLimitStatus) -> dict[str, str]:
    """The headers of an answer the router served under a rate limit (none without one)."""
    return {
        **headers(
            "requests", status.limit_requests, status.remaining_requests, status.reset_requests_ms
        ),
        **headers("tokens", status.limit_tokens, status.remaining_tokens, status.reset_tokens_ms),
    }
