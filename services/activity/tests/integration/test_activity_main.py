"""``tollgate-activity migrate`` prepares the database named by the environment."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tollgate_activity import __main__ as entry_point
from tollgate_common import service_main


def test_migrate_creates_the_tables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    database = tmp_path / "activity.db"
    monkeypatch.setenv("TOLLGATE_ACTIVITY_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setattr(service_main, "configure_logging", lambda *_: None)
    entry_point.main(["migrate"])
    entry_point.main(["migrate"])  # a second run is a no-op
    with sqlite3.connect(database) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"request_log", "inbox", "alembic_version"} <= tables


def test_an_unknown_command_is_refused() -> None:
    with pytest.raises(SystemExit):
        entry_point.main(["frobnicate"])
