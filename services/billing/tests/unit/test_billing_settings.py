"""Billing settings: defaults and the TOLLGATE_BILLING_ prefix."""

from __future__ import annotations

from pathlib import Path

import pytest
from tollgate_billing.settings import BillingSettings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("LISTEN_ADDR", "DATABASE_URL", "MIGRATE_ON_START"):
        monkeypatch.delenv(f"TOLLGATE_BILLING_{name}", raising=False)
    monkeypatch.setenv("TOLLGATE_DATA_DIR", str(tmp_path))
    settings = BillingSettings()
    assert settings.listen_addr == "127.0.0.1:50063"
    assert settings.database_url == f"sqlite+aiosqlite:///{(tmp_path / 'billing.db').resolve()}"
    assert settings.migrate_on_start is True


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+asyncpg://billing:s3cret@db/billing"
    monkeypatch.setenv("TOLLGATE_BILLING_DATABASE_URL", url)
    monkeypatch.setenv("TOLLGATE_BILLING_LISTEN_ADDR", "0.0.0.0:6000")
    monkeypatch.setenv("TOLLGATE_BILLING_MIGRATE_ON_START", "false")
    settings = BillingSettings()
    assert settings.database_url == url
    assert settings.listen_addr == "0.0.0.0:6000"
    assert settings.migrate_on_start is False
    assert "s3cret" not in repr(settings)
