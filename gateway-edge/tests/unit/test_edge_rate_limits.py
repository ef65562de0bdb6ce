"""Rate limits at the edge: a refusal's 429 as OpenAI sends it (type ``requests`` or
``tokens``, ``code`` rate_limit_exceeded, the limit as ``param``, Retry-After and the
``x-ratelimit-*`` headers), a provider's own 429 kept apart, and the reset durations."""

from __future__ import annotations

import grpc
import pytest
from tollgate_common.errors import ErrorDetails
from tollgate_edge.errors import from_details
from tollgate_edge.rate_limit_headers import duration, headers


def test_a_tokens_refusal_is_a_429_naming_the_limit_with_headers() -> None:
    error = from_details(
        ErrorDetails(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "Rate limit reached for the key key_1 on tokens per minute (TPM): Limit 100",
            "RATE_LIMITED",
            {
                "type": "tokens",
                "code": "rate_limit_exceeded",
                "param": "tokensPerMinute",
                "retry_after": "17",
                "limit": "100",
                "remaining": "3",
                "reset_ms": "16500",
            },
        )
    )
    assert error.status == 429
    assert error.envelope()["error"] == {
        "message": "Rate limit reached for the key key_1 on tokens per minute (TPM): Limit 100",
        "type": "tokens",
        "param": "tokensPerMinute",
        "code": "rate_limit_exceeded",
    }
    response = error.response()
    assert response.headers["Retry-After"] == "17"
    assert response.headers["x-ratelimit-limit-tokens"] == "100"
    assert response.headers["x-ratelimit-remaining-tokens"] == "3"
    assert response.headers["x-ratelimit-reset-tokens"] == "16.5s"


def test_a_concurrency_refusal_has_no_per_minute_headers() -> None:
    error = from_details(
        ErrorDetails(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "Rate limit reached for the team on concurrent requests: Limit 1, Running 1.",
            "RATE_LIMITED",
            {"type": "requests", "code": "rate_limit_exceeded", "param": "concurrentRequests"},
        )
    )
    response = error.response()
    assert (error.status, error.type, error.param) == (429, "requests", "concurrentRequests")
    assert response.headers["Retry-After"] == "1"
    assert not [h for h in response.headers if h.startswith("x-ratelimit-")]


def test_a_providers_own_429_is_provider_rate_limited() -> None:
    error = from_details(
        ErrorDetails(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the provider groq is rate limiting requests (HTTP 429); retry later",
            "PROVIDER_REJECTED",
            {
                "provider_status": "429",
                "type": "rate_limit_exceeded",
                "code": "provider_rate_limited",
            },
        )
    )
    assert (error.status, error.code) == (429, "provider_rate_limited")
    assert "groq" in error.message
    assert error.response().headers["Retry-After"] == "1"


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0ms"),
        (250, "250ms"),
        (1000, "1s"),
        (1500, "1.5s"),
        (59_999, "59.999s"),
        (60_000, "1m0s"),
        (360_000, "6m0s"),
        (61_500, "1m1.5s"),
    ],
)
def test_reset_durations_read_as_openais(ms: int, text: str) -> None:
    assert duration(ms) == text


def test_an_unset_limit_has_no_headers() -> None:
    assert headers("requests", 0, 0, 1000) == {}
    assert headers("requests", 60, 59, 1000) == {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
    }
