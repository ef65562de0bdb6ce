"""BYOK secrets at rest: AES-256-GCM under a key-encryption key (KEK) from the environment, a
mounted file, or a generated file in the data dir.

Each sealed value records which KEK sealed it (``kek_id``: the first 16 hex characters of the
KEK's SHA-256) and is bound to its team and provider (AES-GCM additional data), so a ciphertext
copied to another team's row does not open. Rotation: make the new KEK current and list the old
ones in ``TOLLGATE_AUTH_BYOK_PREVIOUS_KEKS``; values sealed under an old KEK still open and are
re-sealed under the current one on their next write (docs/byok.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tollgate_auth.secret_files import write_secret_once

KEK_BYTES: Final = 32
NONCE_BYTES: Final = 12


class VaultError(Exception):
    """A sealed value that cannot be opened (unknown KEK, tampered, wrong team/provider)."""


def parse_kek(text: str) -> bytes:
    """A KEK as configured: 32 bytes, as 64 hex characters or base64 (standard or URL-safe)."""
    value = text.strip()
    try:
        if len(value) == 2 * KEK_BYTES:
            raw = bytes.fromhex(value)
        else:
            standard = value.replace("-", "+").replace("_", "/")
            raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (ValueError, binascii.Error):
        raise ValueError("a BYOK KEK must be 32 bytes, base64- or hex-encoded") from None
    if len(raw) != KEK_BYTES:
        raise ValueError("a BYOK KEK must be 32 bytes, base64- or hex-encoded")
    return raw


def kek_id(kek: bytes) -> str:
    return hashlib.sha256(kek).hexdigest()[:16]


def load_keks(
    current: str | None, current_file: Path | None, previous: Sequence[str], generated: Path
) -> list[bytes]:
    """The KEKs, current first: the configured one, else the file's, else a generated file."""
    if current:
        first = parse_kek(current)
    elif current_file is not None:
        first = parse_kek(current_file.read_text())
    else:
        fresh = (secrets.token_bytes(KEK_BYTES).hex() + "\n").encode()
        first = parse_kek(write_secret_once(generated, fresh).decode())
    return [first, *(parse_kek(old) for old in previous if old.strip())]


@dataclass(frozen=True, slots=True)
class Sealed:
    kek_id: str
    nonce: bytes
    ciphertext: bytes


class Vault:
    """Seals with the current KEK; opens with whichever KEK sealed the value."""

    __slots__ = ("_by_id", "_current")

    def __init__(self, keks: Sequence[bytes]) -> None:
        if not keks:
            raise ValueError("the vault needs a KEK")
        self._current = (kek_id(keks[0]), AESGCM(keks[0]))
        self._by_id = {kek_id(k): AESGCM(k) for k in keks}

    @property
    def current_kek_id(self) -> str:
        return self._current[0]

    def seal(self, plaintext: bytes, context: str) -> Sealed:
        kid, aead = self._current
        nonce = secrets.token_bytes(NONCE_BYTES)
        return Sealed(kid, nonce, aead.encrypt(nonce, plaintext, context.encode()))

    def open(self, sealed: Sealed, context: str) -> bytes:
        aead = self._by_id.get(sealed.kek_id)
        if aead is None:
            raise VaultError(f"sealed under an unknown KEK ({sealed.kek_id})")
        try:
            return aead.decrypt(sealed.nonce, sealed.ciphertext, context.encode())
        except InvalidTag:
            raise VaultError(
                "a sealed BYOK credential does not open (tampered or misplaced)"
            ) from None

    def __repr__(self) -> str:
        return f"Vault(current={self._current[0]}, keks=**********)"


def context_of(team_id: str, provider: str) -> str:
    """The additional data binding a sealed credential to its row."""
    return f"tollgate-byok:v1:{team_id}:{provider}"
