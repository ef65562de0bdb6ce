"""A serving process migrates its database in a short-lived child (``python -m
tollgate_common.migrate``): the database reaches head, a failure is an error naming the service,
and the programs that serve never import what only a migration or tracing needs, nor pydantic
(their settings are read without it: ~15 MiB of private memory a process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from tollgate_common.db import MigrationFailed, migrate_in_child, migrate_in_child_async


def _migrations(root: Path) -> Path:
    """A migrations directory with one revision that creates one table."""
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(
        textwrap.dedent(
            """
            from sqlalchemy import MetaData
            from tollgate_common.migration_env import run_env

            run_env(MetaData(), "UNUSED_DATABASE_URL")
            """
        )
    )
    (root / "versions" / "0001_notes.py").write_text(
        textwrap.dedent(
            """
            import sqlalchemy as sa
            from alembic import op

            revision = "0001"
            down_revision = None
            branch_labels = None
            depends_on = None


            def upgrade() -> None:
                op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True))
            """
        )
    )
    return root


def _state(database: Path) -> tuple[list[str], str]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    return tables, version


def test_the_child_brings_the_database_to_head(tmp_path: Path) -> None:
    database = tmp_path / "svc.db"
    migrate_in_child("svc", f"sqlite+aiosqlite:///{database}", _migrations(tmp_path / "m"))
    assert _state(database) == (["alembic_version", "notes"], "0001")


async def test_the_async_child_brings_the_database_to_head(tmp_path: Path) -> None:
    database = tmp_path / "svc.db"
    url = f"sqlite+aiosqlite:///{database}"
    await migrate_in_child_async("svc", url, _migrations(tmp_path / "m"))
    await migrate_in_child_async("svc", url, tmp_path / "m")  # at head already: nothing to do
    assert _state(database) == (["alembic_version", "notes"], "0001")


def test_a_failed_migration_is_an_error_naming_the_service(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(MigrationFailed, match="migrating the svc database failed"):
        migrate_in_child("svc", "nosuchdriver://nowhere/db", _migrations(tmp_path / "m"))
    logged = capfd.readouterr().err
    assert '"service":"svc"' in logged
    assert "the migration failed" in logged


@pytest.mark.parametrize(
    ("program", "absent"),
    [
        ("tollgate_auth", {"alembic", "mako", "pygments", "opentelemetry.sdk", "pydantic"}),
        ("tollgate_router", {"alembic", "mako", "pygments", "opentelemetry.sdk", "pydantic"}),
        ("tollgate_billing", {"alembic", "mako", "pygments", "opentelemetry.sdk", "pydantic"}),
        ("tollgate_activity", {"alembic", "mako", "pygments", "opentelemetry.sdk", "pydantic"}),
        ("tollgate_edge", {"alembic", "sqlalchemy", "opentelemetry.sdk", "pydantic"}),
    ],
)
def test_a_server_imports_neither_alembic_nor_the_tracing_sdk_nor_pydantic(
    program: str, absent: set[str]
) -> None:
    code = f"import sys, {program}.__main__, {program}.app\nprint('\\n'.join(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    found = {name for name in loaded for package in absent if name.startswith(package)}
    assert not found
