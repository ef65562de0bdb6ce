"""The command line of a service process: ``tollgate-<name> [serve|migrate]``."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

import uvloop

from tollgate_common.db import migrate, migrate_in_child
from tollgate_common.logs import configure_logging
from tollgate_common.runtime import ServiceApp
from tollgate_common.telemetry import traced


class MainSettings(Protocol):
    @property
    def log_level(self) -> str: ...
    @property
    def database_url(self) -> str: ...
    @property
    def migrate_on_start(self) -> bool: ...


Settings = TypeVar("Settings", bound=MainSettings)


def serve(name: str, build: Callable[[], ServiceApp]) -> None:
    """Build the app inside the event loop and serve it until SIGINT / SIGTERM, traced."""

    async def serving() -> None:
        await build().run()

    with traced(name):
        uvloop.run(serving())


def service_main(
    name: str,
    argv: Sequence[str] | None,
    settings_type: Callable[[], Settings],
    migrations: Path,
    build: Callable[[Settings], ServiceApp],
) -> None:
    """Parse ``[serve|migrate]``, read the settings from the environment, migrate (``migrate``;
    ``serve`` in a child process unless ``migrate_on_start`` is off), then serve."""
    parser = argparse.ArgumentParser(prog=f"tollgate-{name}", description=f"Tollgate {name}")
    parser.add_argument("command", nargs="?", choices=("serve", "migrate"), default="serve")
    args = parser.parse_args(argv)
    settings = settings_type()
    configure_logging(name, settings.log_level)
    if args.command == "migrate":
        migrate(settings.database_url, migrations)
        return
    if settings.migrate_on_start:
        migrate_in_child(name, settings.database_url, migrations)
    serve(name, lambda: build(settings))
