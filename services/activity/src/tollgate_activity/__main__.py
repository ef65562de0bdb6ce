"""``tollgate-activity [serve|migrate]``: settings from the environment → run the app."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import uvloop
from tollgate_common.db import migrate
from tollgate_common.logs import configure_logging
from tollgate_common.telemetry import traced

from tollgate_activity.app import MIGRATIONS_DIR, ActivityApp
from tollgate_activity.settings import ActivitySettings


async def _serve(settings: ActivitySettings) -> None:
    await ActivityApp(settings).run()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tollgate-activity", description="Tollgate activity")
    parser.add_argument("command", nargs="?", choices=("serve", "migrate"), default="serve")
    args = parser.parse_args(argv)
    settings = ActivitySettings()
    configure_logging("activity", settings.log_level)
    if args.command == "migrate" or settings.migrate_on_start:
        migrate(settings.database_url, MIGRATIONS_DIR)
    if args.command == "serve":
        with traced("activity"):
            uvloop.run(_serve(settings))


if __name__ == "__main__":
    main()
