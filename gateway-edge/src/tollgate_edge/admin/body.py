"""Strict JSON bodies of the admin API: malformed JSON, unknown fields and wrong types are a
400 naming the field (``param``), before anything is asked of a service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final

from aiohttp import web

from tollgate_edge.errors import ApiError, invalid_request
from tollgate_edge.json_body import json_object

# Admin bodies are a few fields; anything larger is a mistake or an attack.
MAX_ADMIN_BODY_BYTES: Final = 64 * 1024


class Kind(Enum):
    STRING = "a string"
    BOOLEAN = "a boolean"
    TIMESTAMP = "an ISO-8601 timestamp"
    OBJECT = "an object"


@dataclass(frozen=True, slots=True)
class Field:
    kind: Kind
    required: bool = False
    nullable: bool = False


async def read_object(request: web.Request, fields: Mapping[str, Field]) -> dict[str, Any]:
    """The request's JSON object, checked against ``fields``; absent optional fields and
    ``null`` for nullable ones are left out of the answer."""
    raw = await request.read()
    if len(raw) > MAX_ADMIN_BODY_BYTES:
        raise ApiError(
            413, "invalid_request_error", "request body too large", code="request_too_large"
        )
    if not raw.strip():
        raw = b"{}"
    body = json_object(raw)
    for name in body:
        if name not in fields:
            raise invalid_request(f"unknown field `{name}`", name)
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in body or (body[name] is None and spec.nullable):
            if spec.required:
                raise invalid_request(f"`{name}` is required", name)
            continue
        values[name] = _checked(name, body[name], spec.kind)
    return values


def _checked(name: str, value: Any, kind: Kind) -> Any:
    if kind is Kind.STRING and isinstance(value, str):
        return value
    if kind is Kind.BOOLEAN and isinstance(value, bool):
        return value
    if kind is Kind.OBJECT and isinstance(value, dict):
        return value
    if kind is Kind.TIMESTAMP and isinstance(value, str):
        return parse_timestamp(value, name)
    raise invalid_request(f"`{name}` must be {kind.value}", name)


def parse_timestamp(value: str, name: str) -> datetime:
    """An ISO-8601 timestamp with a zone (``Z`` or an offset), as UTC."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise invalid_request(f"`{name}` must be an ISO-8601 timestamp", name) from None
    if moment.tzinfo is None:
        raise invalid_request(f"`{name}` must name its time zone (e.g. a trailing Z)", name)
    return moment.astimezone(UTC)


def query_bool(request: web.Request, name: str) -> bool:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return False
    if raw in ("true", "false"):
        return raw == "true"
    raise invalid_request(f"`{name}` must be true or false", name)
