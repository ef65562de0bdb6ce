"""SQLAlchemy async engines and per-service Alembic migrations."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import URL, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from tollgate_common.errors import Unavailable

log = logging.getLogger(__name__)

# PostgreSQL's SQLSTATE for a statement cancelled (by statement_timeout, here).
_QUERY_CANCELED = "57014"
# PostgreSQL refusing or dropping connections: the server shutting down, starting up or out of
# slots (57P01-57P03, 53300), a connection failure (class 08), and a database closed to new
# connections (55000 "database ... is not currently accepting connections").
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_NOT_ACCEPTING = "55000"
# How much longer than the server's statement timeout the client waits for an answer before it
# gives up on the connection (a server that does not answer at all).
_CLIENT_MARGIN_SECONDS = 5.0


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long a service waits for its database before the request fails (instead of hanging).

    ``connect_seconds``: opening a PostgreSQL connection. ``statement_seconds``: one statement,
    enforced by PostgreSQL's ``statement_timeout`` (and by the client a little later, for a
    server that stopped answering); on SQLite, how long a statement waits for a lock another
    process holds (the busy timeout). None: no limit (migrations; SQLite still waits 30 s).
    """

    connect_seconds: float = 10.0
    statement_seconds: float | None = 30.0


# ``code`` is the gRPC status here, not SQLAlchemy's documentation code (hence ``__str__``).
class DatabaseUnavailable(Unavailable, SQLAlchemyError):  # type: ignore[misc]
    """The database did not answer in time or cannot be reached: UNAVAILABLE for the caller (an
    HTTP 503 at the edge), and a SQLAlchemyError for the loops that retry database errors."""

    reason = "DATABASE_UNAVAILABLE"

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            metadata={
                "http_status": "503",
                "type": "service_unavailable",
                "code": "database_unavailable",
            },
        )

    def __str__(self) -> str:
        return self.message


def _chain(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and what it wraps (DBAPI adapters keep the driver's error as the cause)."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or getattr(exc, "orig", None)
    return seen


def _unavailability(
    exc: BaseException, is_disconnect: bool, timeouts: DatabaseTimeouts
) -> str | None:
    """Why ``exc`` means the database is unavailable (words for the message), or None when it
    is an ordinary error (a constraint, bad SQL, ...)."""
    statement = timeouts.statement_seconds
    if isinstance(exc, asyncio.CancelledError):
        # A cancelled task, not a failed database: the cancellation must go on. (Only the error
        # itself: a timeout raised from a cancelled wait is a real timeout.)
        return None
    for error in _chain(exc):
        sqlstate = getattr(error, "sqlstate", None)
        if sqlstate == _QUERY_CANCELED:
            return f"a statement ran longer than {statement:g} s and was cancelled"
        if isinstance(sqlstate, str) and (
            sqlstate in _UNAVAILABLE_STATES
            or sqlstate.startswith("08")
            or (sqlstate == _NOT_ACCEPTING and "accepting connections" in str(error))
        ):
            return f"it refuses connections ({sqlstate})"
        if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
            return f"a statement waited more than {statement or 30:g} s for a lock"
        if isinstance(error, TimeoutError):
            return "it did not answer in time"
        if isinstance(error, OSError):
            return f"it cannot be reached ({type(error).__name__})"
    return "the connection was lost" if is_disconnect else None


def _database_name(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return Path(url.database or "memory").name
    return url.database or "?"


def _fail_clearly(engine: AsyncEngine, timeouts: DatabaseTimeouts) -> None:
    """A database that is too slow or gone becomes :class:`DatabaseUnavailable`, naming it."""
    name = _database_name(engine.url)
    where = engine.url.render_as_string(hide_password=True)

    def unavailable(why: str) -> DatabaseUnavailable:
        log.warning("database %s unavailable: %s", where, why)
        return DatabaseUnavailable(f"database {name} is unavailable: {why}")

    @event.listens_for(engine.sync_engine, "handle_error")
    def _statement_failed(context: ExceptionContext) -> None:
        if context.is_pre_ping:  # the pool reconnects on its own
            return
        why = _unavailability(context.original_exception, context.is_disconnect, timeouts)
        if why is not None:
            raise unavailable(why)

    # A failed connect reaches no handle_error when the driver's error is not a DBAPI one
    # (asyncpg raises OSError and TimeoutError as they are).
    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.loaded_dbapi.connect(*cargs, **cparams)
        except Exception as exc:
            why = _unavailability(exc, False, timeouts)
            if why is None:
                raise
            raise unavailable(why) from exc


def create_engine(url: str, timeouts: DatabaseTimeouts | None = None) -> AsyncEngine:
    """An async engine with ``timeouts``; SQLite gets WAL, a busy timeout and foreign keys.

    A statement that exceeds them fails with :class:`DatabaseUnavailable` instead of holding
    the request (and a pooled connection) for as long as the database takes."""
    timeouts = timeouts or DatabaseTimeouts()
    parsed = make_url(url)
    statement = timeouts.statement_seconds
    if parsed.get_backend_name() != "sqlite":
        connect_args: dict[str, Any] = {"timeout": timeouts.connect_seconds}
        if statement is not None and parsed.get_driver_name() == "asyncpg":
            connect_args["command_timeout"] = statement + _CLIENT_MARGIN_SECONDS
            connect_args["server_settings"] = {"statement_timeout": str(int(statement * 1000))}
        engine = create_async_engine(
            url, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args=connect_args
        )
        _fail_clearly(engine, timeouts)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    busy_seconds = statement if statement is not None else 30.0
    engine = create_async_engine(url, connect_args={"timeout": busy_seconds})

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA busy_timeout={int(busy_seconds * 1000)}",
        ):
            cursor.execute(pragma)
        cursor.close()

    _fail_clearly(engine, timeouts)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def migrate(url: str, script_location: Path, revision: str = "head") -> None:
    """Upgrade the database at ``url`` with the migrations in ``script_location``, in this
    process (``tollgate-<svc> migrate``, tests). A serving process calls
    :func:`migrate_in_child` instead."""
    # Alembic (with Mako and Pygments) is imported here only: ~13 MiB a server never needs.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["database_url"] = url
    command.upgrade(config, revision)


class MigrationFailed(RuntimeError):
    """The migration child exited with an error (it logged why)."""


def _child_argv(service: str, script_location: Path) -> list[str]:
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    return [sys.executable, "-m", "tollgate_common.migrate", service, str(script_location), level]


def _check(returncode: int, service: str) -> None:
    if returncode != 0:
        raise MigrationFailed(f"migrating the {service} database failed (exit {returncode})")


def migrate_in_child(service: str, url: str, script_location: Path) -> None:
    """Upgrade the database to head in a short-lived child process (``python -m
    tollgate_common.migrate``), so that the serving process never loads Alembic. The URL (it
    may hold a password) goes through the child's stdin; the child logs to this process's
    stderr. Raises :class:`MigrationFailed` when it fails."""
    done = subprocess.run(_child_argv(service, script_location), input=url.encode(), check=False)
    _check(done.returncode, service)


async def migrate_async(url: str, script_location: Path, revision: str = "head") -> None:
    """:func:`migrate` in a thread, from inside a running event loop (tests, tools)."""
    await asyncio.to_thread(migrate, url, script_location, revision)


async def migrate_in_child_async(service: str, url: str, script_location: Path) -> None:
    """:func:`migrate_in_child` from inside a running event loop."""
    child = await asyncio.create_subprocess_exec(
        *_child_argv(service, script_location), stdin=subprocess.PIPE
    )
    await child.communicate(url.encode())
    _check(child.returncode or 0, service)
