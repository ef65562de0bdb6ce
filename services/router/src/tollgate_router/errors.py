"""The router's domain errors, each with its gRPC status and ErrorInfo reason."""

from __future__ import annotations

import grpc
from tollgate_common.errors import DomainError, InvalidArgument, NotFound, Unavailable


class ModelNotFound(NotFound):
    reason = "MODEL_NOT_FOUND"

    def __init__(self, model: str, param: str = "model") -> None:
        super().__init__(f"model {model!r} not found", metadata={"param": param})


class UnsupportedModel(InvalidArgument):
    reason = "UNSUPPORTED_MODEL"

    def __init__(self, model: str, kind: str) -> None:
        super().__init__(
            f"model {model!r} is a {kind} model and cannot generate chat completions",
            metadata={"param": "model"},
        )


class UnsupportedModality(InvalidArgument):
    """The model cannot take an attachment's modality, or produce a requested output one."""

    reason = "UNSUPPORTED_MODALITY"

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message, metadata={"param": param})


class NoProviderAvailable(Unavailable):
    reason = "NO_PROVIDER_AVAILABLE"


class ProviderFailed(Unavailable):
    """Every provider tried failed in a way the caller cannot fix; also the reason of a
    provider failing after the first byte (``Failed``)."""

    reason = "PROVIDER_ERROR"


# The gRPC status of a provider's refusal, by the provider's HTTP status.
_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ABORTED,
    413: grpc.StatusCode.INVALID_ARGUMENT,
    422: grpc.StatusCode.INVALID_ARGUMENT,
}


class ProviderRejected(DomainError):
    """A provider refused the request as the caller's mistake (its own 4xx). The metadata carry
    the provider's details for the edge to pass on: ``provider_status`` (its HTTP status),
    ``type``, ``code`` and ``param`` (as its error said them)."""

    reason = "PROVIDER_REJECTED"

    def __init__(self, status: int, message: str, *, type: str, code: str, param: str) -> None:
        metadata = {"provider_status": str(status), "type": type}
        if code:
            metadata["code"] = code
        if param:
            metadata["param"] = param
        super().__init__(message, metadata=metadata)
        self.code = _CODES.get(status, grpc.StatusCode.FAILED_PRECONDITION)


class IdempotencyKeyInUse(DomainError):
    """A request with the same ``Idempotency-Key`` is still running (past the wait)."""

    code = grpc.StatusCode.ABORTED
    reason = "IDEMPOTENCY_KEY_IN_USE"

    def __init__(self, waited: float) -> None:
        super().__init__(
            "a request with this Idempotency-Key is still running (waited "
            f"{waited:g} s); retry later for its answer"
        )


class IdempotencyKeyReused(InvalidArgument):
    """The same ``Idempotency-Key`` came with another request body: 422, as Stripe answers."""

    reason = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was used with a different request body; use a new key for a "
            "new request",
            metadata={
                "http_status": "422",
                "type": "invalid_request_error",
                "code": "idempotency_key_reused",
            },
        )
