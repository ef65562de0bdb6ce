"""Activity's domain errors."""

from __future__ import annotations

from tollgate_common.errors import InvalidArgument


def invalid_field(param: str, message: str) -> InvalidArgument:
    return InvalidArgument(message, metadata={"param": param})


class InvalidUsage(ValueError):
    """A usage fact that can never be recorded (the consumer terminates its message)."""


class InvalidActivity(ValueError):
    """An activity fact that can never be recorded (the consumer terminates its message)."""
