"""``tollgate-auth [serve|migrate]``: settings from the environment → run the auth service."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from tollgate_common.db import migrate
from tollgate_common.logs import configure_logging
from tollgate_common.telemetry import traced

from tollgate_auth.app import MIGRATIONS_DIR, rotate_oidc_key, serve
from tollgate_auth.settings import AuthSettings

log = logging.getLogger("tollgate_auth")


def _run(coro: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tollgate-auth", description="Tollgate auth service")
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=("serve", "migrate", "rotate-oidc-key"),
        help="serve (default; migrates first unless TOLLGATE_AUTH_MIGRATE_ON_START=false), "
        "migrate only, or rotate-oidc-key (a new OIDC signing key; the old ones stop signing "
        "and keep verifying until their tokens expire)",
    )
    args = parser.parse_args(argv)
    settings = AuthSettings()
    configure_logging("auth", settings.log_level)
    try:
        if args.command == "migrate" or settings.migrate_on_start:
            migrate(settings.database_url, MIGRATIONS_DIR)
            log.info("auth database migrated")
        if args.command == "serve":
            with traced("auth"):
                _run(serve(settings))
        elif args.command == "rotate-oidc-key":
            _run(rotate_oidc_key(settings))
    except Exception:
        log.exception("auth service failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
