"""``python -m tollgate_router [serve|migrate]`` (also the ``tollgate-router`` script)."""

from __future__ import annotations

import argparse

import uvloop
from tollgate_common.db import migrate
from tollgate_common.logs import configure_logging
from tollgate_common.telemetry import traced

from tollgate_router.app import MIGRATIONS, RouterApp
from tollgate_router.settings import RouterSettings


async def _serve(settings: RouterSettings) -> None:
    await RouterApp(settings).run()  # migrates first unless migrate_on_start is false


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tollgate-router", description="Tollgate router service")
    parser.add_argument("command", nargs="?", default="serve", choices=("serve", "migrate"))
    args = parser.parse_args(argv)
    settings = RouterSettings()
    configure_logging("router", settings.log_level)
    if args.command == "migrate":
        migrate(settings.effective_database_url(), MIGRATIONS)
        return
    with traced("router"):
        uvloop.run(_serve(settings))


if __name__ == "__main__":
    main()
