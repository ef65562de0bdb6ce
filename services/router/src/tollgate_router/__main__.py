"""``python -m tollgate_router [serve|migrate]`` (also the ``tollgate-router`` script)."""

from __future__ import annotations

from tollgate_common import grpc_defaults, optional_imports

grpc_defaults.apply()  # before gRPC is first imported
optional_imports.leave_out()  # aiohttp: this service makes no use of it

import argparse  # noqa: E402

from tollgate_common.db import migrate  # noqa: E402
from tollgate_common.logs import configure_logging  # noqa: E402
from tollgate_common.service_main import serve  # noqa: E402

from tollgate_router.app import MIGRATIONS, RouterApp  # noqa: E402
from tollgate_router.settings import RouterSettings  # noqa: E402


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
