"""API keys: generation, keyed hashing and the pepper.

Keys are stored only as ``hex(HMAC-SHA256(pepper, key))``; the pepper never leaves the process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from datetime import datetime
from pathlib import Path
from typing import Final

from tollgate_common.env_settings import Secret
from tollgate_common.ids import new_id

from tollgate_auth.domain import NewApiKey
from tollgate_auth.secret_files import write_secret_once

KEY_PREFIX: Final = "tg_"
KEY_RANDOM_CHARS: Final = 40
PREFIX_LENGTH: Final = 12
PEPPER_BYTES: Final = 32

_BASE62: Final = string.digits + string.ascii_letters


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


def load_pepper(secret: Secret | None, secret_file: Path | None, generated_path: Path) -> bytes:
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
