"""``python -m tollgate_router [serve|migrate]`` (also the ``tollgate-router`` script)."""

from __future__ import annotations

import argparse

from tollgate_common.db import migrate
from tollgate_common.logs import configure_logging
from tollgate_common.service_main import serve

from tollgate_router.app import MIGRATIONS, RouterApp
from tollgate_router.settings import RouterSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tollgate-router", description="Tollgate router service")
    parser.add_argument("command", nargs="?", default="serve", choices=("serve", "migrate"))
    args = parser.parse_args(argv)
    settings = RouterSettings()
    configure_logging("router", settings.log_level)
    if args.command == "migrate":
        migrate(settings.effective_database_url(), MIGRATIONS)
        return
    serve("router", lambda: RouterApp(settings))  # migrates first unless migrate_on_start is off


if __name__ == "__main__":
    main()
