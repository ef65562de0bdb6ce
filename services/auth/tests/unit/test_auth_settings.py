"""Settings: names, defaults, and secrets kept out of repr."""

from __future__ import annotations

from pathlib import Path

import pytest
from tollgate_auth.settings import AuthSettings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOLLGATE_DATA_DIR", str(tmp_path))
    settings = AuthSettings()
    assert settings.listen_addr == "127.0.0.1:50061"
    assert settings.database_url == f"sqlite+aiosqlite:///{(tmp_path / 'auth.db').resolve()}"
    assert settings.migrate_on_start is True
    assert settings.key_pepper is None
    assert settings.bootstrap_api_key is None
    assert settings.cache_ttl_seconds == 30
    assert settings.pepper_path == (tmp_path / "auth-pepper").absolute()
    assert settings.bootstrap_key_path == (tmp_path / "bootstrap-key").absolute()


def test_environment_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOLLGATE_AUTH_LISTEN_ADDR", "0.0.0.0:7000")
    monkeypatch.setenv("TOLLGATE_AUTH_DATABASE_URL", "postgresql+asyncpg://db/auth")
    monkeypatch.setenv("TOLLGATE_AUTH_MIGRATE_ON_START", "false")
    monkeypatch.setenv("TOLLGATE_AUTH_KEY_PEPPER_FILE", str(tmp_path / "pepper"))
    monkeypatch.setenv("TOLLGATE_AUTH_CACHE_TTL_SECONDS", "5")
    settings = AuthSettings()
    assert settings.listen_addr == "0.0.0.0:7000"
    assert settings.database_url == "postgresql+asyncpg://db/auth"
    assert settings.migrate_on_start is False
    assert settings.key_pepper_file == tmp_path / "pepper"
    assert settings.cache_ttl_seconds == 5


def test_secrets_are_read_but_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLLGATE_AUTH_KEY_PEPPER", "pepper-value-123")
    monkeypatch.setenv("TOLLGATE_BOOTSTRAP_API_KEY", "bootstrap-value-456")
    settings = AuthSettings()
    assert settings.key_pepper is not None
    assert settings.key_pepper.get_secret_value() == "pepper-value-123"
    assert settings.bootstrap_api_key is not None
    assert settings.bootstrap_api_key.get_secret_value() == "bootstrap-value-456"
    for text in (repr(settings), str(settings)):
        assert "pepper-value-123" not in text
        assert "bootstrap-value-456" not in text


def test_a_database_password_stays_out_of_repr() -> None:
    settings = AuthSettings(database_url="postgresql+asyncpg://auth:hunter2@db/auth")
    assert "hunter2" not in repr(settings)
