"""Key generation, keyed hashing, credential extraction, JWT detection and secret files."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tollgate_auth.keys.credentials import (
    Credential,
    CredentialSource,
    extract_credential,
    looks_like_jwt,
)
from tollgate_auth.keys.hashing import KeyHasher, generate_api_key, key_prefix, load_pepper
from tollgate_auth.secret_files import write_secret_once
from tollgate_common.env_settings import Secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(header: dict[str, object]) -> str:
    return ".".join((_b64(json.dumps(header).encode()), _b64(b'{"sub":"x"}'), _b64(b"signature")))


def test_generated_keys_are_tg_and_40_base62_characters() -> None:
    keys = {generate_api_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert re.fullmatch(r"tg_[0-9A-Za-z]{40}", key)


def test_prefix_is_the_first_12_characters() -> None:
    assert key_prefix("tg_abcdefghijklmnop") == "tg_abcdefghi"
    assert key_prefix("short") == "short"


def test_hash_is_hex_hmac_sha256_with_the_pepper() -> None:
    hasher = KeyHasher(b"pepper")
    expected = hmac.new(b"pepper", b"tg_key", hashlib.sha256).hexdigest()
    assert hasher.hash("tg_key") == expected
    assert hasher.hash("tg_key") == expected  # the keyed state is reused, not consumed
    assert len(expected) == 64
    assert KeyHasher(b"other").hash("tg_key") != expected


def test_hasher_and_credential_never_show_secrets() -> None:
    assert "s3cr3t" not in repr(KeyHasher(b"s3cr3t"))
    assert "tg_secret" not in repr(Credential(CredentialSource.BEARER, "tg_secret"))


def test_empty_pepper_is_refused() -> None:
    with pytest.raises(ValueError, match="pepper"):
        KeyHasher(b"")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"x-api-key": "tg_a"}, Credential(CredentialSource.API_KEY_HEADER, "tg_a")),
        ({"authorization": "Bearer tg_b"}, Credential(CredentialSource.BEARER, "tg_b")),
        ({"authorization": "bearer tg_b"}, Credential(CredentialSource.BEARER, "tg_b")),
        ({"authorization": "BEARER   tg_b  "}, Credential(CredentialSource.BEARER, "tg_b")),
        ({"authorization": "Bearer"}, Credential(CredentialSource.BEARER, "")),
        ({"authorization": "Basic dXNlcjpwYXNz"}, None),
        # x-api-key decides whenever it is present, even when invalid or empty.
        (
            {"x-api-key": "wrong", "authorization": "Bearer tg_b"},
            Credential(CredentialSource.API_KEY_HEADER, "wrong"),
        ),
        (
            {"x-api-key": "", "authorization": "Bearer tg_b"},
            Credential(CredentialSource.API_KEY_HEADER, ""),
        ),
    ],
)
def test_credential_extraction(headers: dict[str, str], expected: Credential | None) -> None:
    assert extract_credential(headers) == expected


def test_jwt_detection() -> None:
    assert looks_like_jwt(_jwt({"alg": "ES256", "kid": "k1"}))
    assert looks_like_jwt(_jwt({"alg": "none"})[: -len(_b64(b"signature"))])  # empty signature
    assert not looks_like_jwt(generate_api_key())
    assert not looks_like_jwt("a.b.c")  # not a JOSE header
    assert not looks_like_jwt(_jwt({"typ": "JWT"}))  # no alg
    assert not looks_like_jwt(_jwt({"alg": "ES256"}) + ".extra")
    assert not looks_like_jwt("tg_with.dots+and/slashes.here")
    assert not looks_like_jwt("")


def test_secret_file_is_created_0600_once(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secret"
    assert write_secret_once(path, b"first\n") == b"first\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert write_secret_once(path, b"second\n") == b"first\n"
    assert path.read_bytes() == b"first\n"
    assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no temporary files left


def test_racing_writers_all_get_the_first_content(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: write_secret_once(path, f"v{i}".encode()), range(32)))
    assert len(set(results)) == 1
    assert results[0] == path.read_bytes()


def test_pepper_from_setting_file_or_generated(tmp_path: Path) -> None:
    generated = tmp_path / "auth-pepper"
    assert load_pepper(Secret("from-env"), None, generated) == b"from-env"
    secret_file = tmp_path / "mounted"
    secret_file.write_text("from-file\n")
    assert load_pepper(None, secret_file, generated) == b"from-file"
    assert not generated.exists()

    first = load_pepper(None, None, generated)
    assert len(first) == 64  # 32 random bytes, hex-encoded
    assert stat.S_IMODE(generated.stat().st_mode) == 0o600
    assert load_pepper(None, None, generated) == first


def test_empty_pepper_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        load_pepper(None, empty, tmp_path / "auth-pepper")
