"""Billing's domain errors, each with its gRPC status and reason."""

from __future__ import annotations

import grpc
from tollgate_common.errors import DomainError, InvalidArgument, NotFound


class GenerationNotFound(NotFound):
    """Unknown id, or a generation of another team (never reveal which)."""

    reason = "GENERATION_NOT_FOUND"


def missing_field(param: str) -> InvalidArgument:
    return InvalidArgument(f"{param} is required", metadata={"param": param})


class InvalidUsage(ValueError):
    """A usage fact that can never be recorded (the consumer terminates its message)."""


class InsufficientFunds(DomainError):
    """The team cannot pay for the work asked (the edge answers 402 ``insufficient_funds``)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "INSUFFICIENT_FUNDS"


class BudgetExceeded(DomainError):
    """A budget of the team, its project or its key has no room for the work asked (the edge
    answers 402 ``budget_exceeded``)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "BUDGET_EXCEEDED"


class BudgetNotFound(NotFound):
    reason = "BUDGET_NOT_FOUND"


class BalanceLimit(DomainError):
    """A debit would take the balance below the operator's limit (zero)."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "BALANCE_LIMIT"


class RateLimitNotFound(NotFound):
    reason = "RATE_LIMIT_NOT_FOUND"


class RateLimited(DomainError):
    """A rate limit of the team, its project or its key has no room for the request now (the
    edge answers 429 ``rate_limit_exceeded``; the metadata names the limit and when to retry)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "RATE_LIMITED"
