"""The BYOK vault: AES-GCM under a KEK, bound to team and provider, with KEK rotation."""

from __future__ import annotations

import base64
import secrets
import stat
from pathlib import Path

import pytest
from tollgate_auth.byok.vault import Vault, VaultError, context_of, kek_id, load_keks, parse_kek

OLD = secrets.token_bytes(32)
NEW = secrets.token_bytes(32)


def test_a_sealed_secret_opens_only_for_its_team_and_provider() -> None:
    vault = Vault([NEW])
    sealed = vault.seal(b'{"apiKey":"sk-live-123"}', context_of("team_a", "openai"))
    assert b"sk-live" not in sealed.ciphertext
    assert vault.open(sealed, context_of("team_a", "openai")) == b'{"apiKey":"sk-live-123"}'
    for team, provider in (("team_b", "openai"), ("team_a", "anthropic")):
        with pytest.raises(VaultError):
            vault.open(sealed, context_of(team, provider))
    tampered = type(sealed)(
        sealed.kek_id, sealed.nonce, sealed.ciphertext[:-1] + bytes([sealed.ciphertext[-1] ^ 1])
    )
    with pytest.raises(VaultError):
        vault.open(tampered, context_of("team_a", "openai"))


def test_rotation_old_values_open_new_ones_use_the_new_kek() -> None:
    sealed_before = Vault([OLD]).seal(b"secret", "ctx")
    rotated = Vault([NEW, OLD])
    assert rotated.open(sealed_before, "ctx") == b"secret"
    assert rotated.seal(b"secret", "ctx").kek_id == kek_id(NEW) != kek_id(OLD)
    with pytest.raises(VaultError):
        Vault([NEW]).open(sealed_before, "ctx")  # the old KEK dropped too early


def test_kek_encodings_and_the_generated_file(tmp_path: Path) -> None:
    assert parse_kek(NEW.hex()) == NEW
    assert parse_kek(base64.b64encode(NEW).decode()) == NEW
    assert parse_kek(base64.urlsafe_b64encode(NEW).decode().rstrip("=")) == NEW
    for bad in ("", "short", base64.b64encode(b"x" * 16).decode()):
        with pytest.raises(ValueError, match="32 bytes"):
            parse_kek(bad)
    generated = tmp_path / "byok-kek"
    first = load_keks(None, None, [], generated)
    assert load_keks(None, None, [], generated) == first  # the same KEK after a restart
    assert stat.S_IMODE(generated.stat().st_mode) == 0o600
    assert load_keks(NEW.hex(), None, [OLD.hex()], generated) == [NEW, OLD]
    assert "secret" not in repr(Vault([NEW])) and NEW.hex() not in repr(Vault([NEW]))
