"""API keys: generation, keyed hashing, credential extraction and the secret files.

Keys are stored only as ``hex(HMAC-SHA256(pepper, key))``; the pepper never leaves the process.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Final

from pydantic import SecretStr
from tollgate_common.ids import new_id

from tollgate_auth.domain import NewApiKey

KEY_PREFIX: Final = "tg_"
KEY_RANDOM_CHARS: Final = 40
PREFIX_LENGTH: Final = 12
PEPPER_BYTES: Final = 32

_BASE62: Final = string.digits + string.ascii_letters
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]*")


def generate_api_key() -> str:
    """A new key: ``tg_`` + 40 base62 characters (about 238 bits of randomness)."""
    return KEY_PREFIX + "".join(secrets.choice(_BASE62) for _ in range(KEY_RANDOM_CHARS))


def key_prefix(key: str) -> str:
    """The part of a key that may be shown again: its first 12 characters."""
    return key[:PREFIX_LENGTH]


class KeyHasher:
    """Keyed hash of API keys; the pepper is held here and nowhere else."""

    __slots__ = ("_base",)

    def __init__(self, pepper: bytes) -> None:
        if not pepper:
            raise ValueError("the key pepper must not be empty")
        self._base = hmac.new(pepper, digestmod=hashlib.sha256)

    def hash(self, key: str) -> str:
        mac = self._base.copy()
        mac.update(key.encode())
        return mac.hexdigest()

    def __repr__(self) -> str:
        return "KeyHasher(pepper=**********)"


def mint_api_key(
    hasher: KeyHasher,
    *,
    team_id: str,
    user_id: str,
    name: str,
    created_at: datetime,
    project_id: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[NewApiKey, str]:
    """A new key: the row to store (hash and prefix only) and the key itself, shown once."""
    key = generate_api_key()
    row = NewApiKey(
        key_id=new_id("key"),
        team_id=team_id,
        user_id=user_id,
        name=name,
        prefix=key_prefix(key),
        key_hash=hasher.hash(key),
        created_at=created_at,
        project_id=project_id,
        expires_at=expires_at,
    )
    return row, key


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


def looks_like_jwt(token: str) -> bool:
    """Whether ``token`` is a well-formed JWT: three base64url parts, a JOSE header."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return False
    if not all(_BASE64URL.fullmatch(part) for part in parts):
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (binascii.Error, ValueError):
        return False
    return isinstance(header, dict) and isinstance(header.get("alg"), str)


def write_secret_once(path: Path, content: bytes) -> bytes:
    """Create ``path`` (mode 0600) holding ``content`` unless it exists; return what it holds.

    Safe when several processes race: the file appears atomically (hard link of a complete
    temporary file), so a reader never sees half of it, and the first writer wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path.read_bytes()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_bytes()
        return content
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def load_pepper(secret: SecretStr | None, secret_file: Path | None, generated_path: Path) -> bytes:
    """The pepper: the configured secret, else the configured file, else a generated file.

    A generated pepper is 32 random bytes, stored hex-encoded (a text file like a mounted
    secret); surrounding whitespace of a file is ignored.
    """
    if secret is not None and secret.get_secret_value():
        return secret.get_secret_value().encode()
    if secret_file is not None:
        pepper = secret_file.read_bytes().strip()
        if not pepper:
            raise ValueError(f"the key pepper file {secret_file} is empty")
        return pepper
    generated = (secrets.token_hex(PEPPER_BYTES) + "\n").encode()
    pepper = write_secret_once(generated_path, generated).strip()
    if not pepper:
        raise ValueError(f"the key pepper file {generated_path} is empty")
    return pepper
