"""Billing's domain errors, each with its gRPC status and reason."""

from __future__ import annotations

from tollgate_common.errors import InvalidArgument, NotFound


class GenerationNotFound(NotFound):
    """Unknown id, or a generation of another team (never reveal which)."""

    reason = "GENERATION_NOT_FOUND"


def missing_field(param: str) -> InvalidArgument:
    return InvalidArgument(f"{param} is required", metadata={"param": param})


class InvalidUsage(ValueError):
    """A usage fact that can never be recorded (the consumer terminates its message)."""
