"""The credential a request presents (``x-api-key`` or ``Authorization: Bearer``) and whether a
bearer token is a JWT (an OIDC token) rather than an API key."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]*")


class CredentialSource(StrEnum):
    API_KEY_HEADER = "x-api-key"
    BEARER = "authorization"


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential as presented; ``value`` is a secret and must never be logged."""

    source: CredentialSource
    value: str = ""

    def __repr__(self) -> str:
        return f"Credential(source={self.source.value!r}, value=**********)"


def extract_credential(headers: Mapping[str, str]) -> Credential | None:
    """The request's credential (an API key or a bearer token); headers are lower-cased.

    ``x-api-key`` decides whenever it is present, even if empty or invalid; otherwise an
    ``Authorization: Bearer <token>`` header (scheme case-insensitive). ``None``: no credential.
    A present but empty value comes back with ``value == ""``.
    """
    api_key = headers.get("x-api-key")
    if api_key is not None:
        return Credential(CredentialSource.API_KEY_HEADER, api_key.strip())
    authorization = headers.get("authorization")
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return Credential(CredentialSource.BEARER, token.strip())


def _b64_json(part: str) -> object:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def jwt_expiry(token: str) -> datetime | None:
    """The ``exp`` claim of a JWT whose signature was verified already; ``None`` without one."""
    try:
        claims = _b64_json(token.split(".")[1])
    except (IndexError, binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return None
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def looks_like_jwt(token: str) -> bool:
    """Whether ``token`` is a well-formed JWT: three base64url parts, a JOSE header."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return False
    if not all(_BASE64URL.fullmatch(part) for part in parts):
        return False
    try:
        header = _b64_json(parts[0])
    except (binascii.Error, ValueError):
        return False
    return isinstance(header, dict) and isinstance(header.get("alg"), str)
