"""The error map of docs/internal-contracts.md, row by row."""

from __future__ import annotations

import json

import grpc
import pytest
from tollgate_common.errors import ErrorDetails
from tollgate_edge.errors import ApiError, from_details, from_generation_error

C = grpc.StatusCode


@pytest.mark.parametrize(
    ("code", "reason", "status", "type_"),
    [
        (C.INVALID_ARGUMENT, "BAD_THING", 400, "invalid_request_error"),
        (C.UNAUTHENTICATED, "API_KEY_REVOKED", 401, "authentication_error"),
        (C.PERMISSION_DENIED, "ROLE", 403, "forbidden"),
        (C.NOT_FOUND, "MODEL_NOT_FOUND", 404, "model_not_found"),
        (C.NOT_FOUND, "GENERATION_NOT_FOUND", 404, "not_found"),
        (C.ALREADY_EXISTS, "SLUG_TAKEN", 409, "conflict"),
        (C.ABORTED, "LAST_OWNER", 409, "conflict"),
        (C.RESOURCE_EXHAUSTED, "INSUFFICIENT_FUNDS", 402, "insufficient_funds"),
        (C.RESOURCE_EXHAUSTED, "BUDGET_EXCEEDED", 402, "budget_exceeded"),
        (C.RESOURCE_EXHAUSTED, "RATE_LIMITED", 429, "rate_limit_exceeded"),
        (C.UNAVAILABLE, "NO_PROVIDER_AVAILABLE", 503, "service_unavailable"),
        (C.UNAVAILABLE, "BILLING_UNAVAILABLE", 503, "service_unavailable"),
        (C.UNAVAILABLE, "PROVIDER_ERROR", 502, "api_error"),
        (C.UNAVAILABLE, "SOMETHING_ELSE", 502, "api_error"),
        (C.UNAVAILABLE, "", 503, "service_unavailable"),  # a peer down or restarting
        (C.DEADLINE_EXCEEDED, "SLOW", 504, "timeout_error"),
        (C.INTERNAL, "BOOM", 500, "internal_server_error"),
        (C.FAILED_PRECONDITION, "FAILED_PRECONDITION", 500, "internal_server_error"),
        (C.UNKNOWN, "", 500, "internal_server_error"),
    ],
)
def test_status_and_reason_map_to_http(
    code: grpc.StatusCode, reason: str, status: int, type_: str
) -> None:
    error = from_details(ErrorDetails(code, "what happened", reason))
    assert (error.status, error.type) == (status, type_)
    assert error.retry_after == ("1" if status in (429, 503) else None)


def test_domain_messages_and_reasons_reach_the_client() -> None:
    error = from_details(
        ErrorDetails(
            C.INVALID_ARGUMENT, "temperature too high", "OUT_OF_RANGE", {"param": "temperature"}
        )
    )
    assert error.envelope() == {
        "error": {
            "message": "temperature too high",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "out_of_range",
        }
    }


def test_a_failure_without_error_info_hides_its_text() -> None:
    error = from_details(
        ErrorDetails(C.UNAVAILABLE, "failed to connect to all addresses; ipv4:10.0.0.7:50062")
    )
    assert error.status == 503
    assert error.message == "a Tollgate service is unavailable; retry shortly"
    assert "10.0.0.7" not in error.message
    assert error.code is None


def test_metadata_http_status_overrides_the_table() -> None:
    error = from_details(
        ErrorDetails(
            C.UNAVAILABLE,
            "Unsupported parameter: 'max_tokens'",
            "PROVIDER_ERROR",
            {
                "http_status": "400",
                "type": "invalid_request_error",
                "code": "unsupported_parameter",
                "param": "max_tokens",
            },
        )
    )
    assert (error.status, error.type, error.code, error.param) == (
        400,
        "invalid_request_error",
        "unsupported_parameter",
        "max_tokens",
    )
    assert error.message == "Unsupported parameter: 'max_tokens'"


def test_an_override_without_type_derives_it_and_sets_retry_after() -> None:
    error = from_details(
        ErrorDetails(
            C.UNAVAILABLE, "slow down", "PROVIDER_ERROR", {"http_status": "429", "retry_after": "7"}
        )
    )
    assert (error.status, error.type, error.retry_after) == (429, "rate_limit_exceeded", "7")
    response = error.response()
    assert response.headers["Retry-After"] == "7"


@pytest.mark.parametrize("bad", ["abc", "99", "700", "\uff14\uff12\uff19"])  # full-width digits
def test_a_bad_override_is_ignored(bad: str) -> None:
    error = from_details(ErrorDetails(C.UNAVAILABLE, "x", "PROVIDER_ERROR", {"http_status": bad}))
    assert error.status == 502


def test_billing_unavailable_names_no_code() -> None:
    error = from_details(ErrorDetails(C.UNAVAILABLE, "billing is down", "BILLING_UNAVAILABLE"))
    assert error.envelope()["error"] == {
        "message": "billing is down",
        "type": "service_unavailable",
        "param": None,
        "code": None,
    }
    assert error.retry_after == "1"


@pytest.mark.parametrize("code", [C.INVALID_ARGUMENT, C.NOT_FOUND, C.FAILED_PRECONDITION])
def test_a_providers_refusal_is_passed_through_with_its_own_status(code: grpc.StatusCode) -> None:
    error = from_details(
        ErrorDetails(
            code,
            "Invalid value for 'temperature'.",
            "PROVIDER_REJECTED",
            {
                "provider_status": "422",
                "type": "invalid_request_error",
                "code": "invalid_value",
                "param": "temperature",
            },
        )
    )
    assert error.envelope() == {
        "error": {
            "message": "Invalid value for 'temperature'.",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "invalid_value",
        }
    }
    assert error.status == 422


def test_provider_status_is_only_read_from_a_providers_refusal() -> None:
    error = from_details(
        ErrorDetails(C.UNAVAILABLE, "x", "PROVIDER_ERROR", {"provider_status": "429"})
    )
    assert (error.status, error.type) == (502, "api_error")


def test_a_provider_failing_mid_answer_keeps_its_status_or_falls_back_to_502() -> None:
    for provider_status in (0, 200, 600):
        error = from_generation_error("PROVIDER_ERROR", "cut", provider_status, "")
        assert (error.status, error.type) == (502, "api_error")
    error = from_generation_error("PROVIDER_ERROR", "too many", 429, "slow")
    assert (error.status, error.type, error.retry_after, error.message, error.code) == (
        429,
        "api_error",
        "1",
        "too many",
        "slow",
    )
    assert from_generation_error("SOMETHING_NEW", "", 0, "").type == "api_error"
    assert from_generation_error("SOMETHING_NEW", "", 429, "").type == "rate_limit_exceeded"


def test_the_sse_error_event() -> None:
    event = ApiError(502, "api_error", "cut off", code="x").sse_event()
    assert event.startswith(b"data: ") and event.endswith(b"\n\n")
    assert json.loads(event[6:]) == {
        "error": {"message": "cut off", "type": "api_error", "param": None, "code": "x"}
    }
