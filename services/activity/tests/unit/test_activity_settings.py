"""Activity settings: defaults and the TOLLGATE_ACTIVITY_ prefix."""

from __future__ import annotations

from pathlib import Path

import pytest
from tollgate_activity.settings import ActivitySettings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("LISTEN_ADDR", "DATABASE_URL", "MIGRATE_ON_START"):
        monkeypatch.delenv(f"TOLLGATE_ACTIVITY_{name}", raising=False)
    monkeypatch.setenv("TOLLGATE_DATA_DIR", str(tmp_path))
    settings = ActivitySettings()
    assert settings.listen_addr == "127.0.0.1:50064"
    assert settings.database_url == f"sqlite+aiosqlite:///{(tmp_path / 'activity.db').resolve()}"
    assert settings.migrate_on_start is True


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+asyncpg://activity:s3cret@db/activity"
    monkeypatch.setenv("TOLLGATE_ACTIVITY_DATABASE_URL", url)
    monkeypatch.setenv("TOLLGATE_ACTIVITY_MIGRATE_ON_START", "0")
    settings = ActivitySettings()
    assert settings.database_url == url
    assert settings.migrate_on_start is False
    assert "s3cret" not in repr(settings)
