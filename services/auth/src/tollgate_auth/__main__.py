"""``tollgate-auth [serve|migrate]``: settings from the environment → run the auth service."""

from __future__ import annotations

from tollgate_common import grpc_defaults, optional_imports

grpc_defaults.apply()  # before gRPC is first imported
# aiohttp only when an OIDC issuer's keys are fetched, not for nats-py's WebSocket transport
optional_imports.import_without("nats")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402

import uvloop  # noqa: E402
from tollgate_common.db import create_engine, migrate, migrate_in_child  # noqa: E402
from tollgate_common.logs import configure_logging  # noqa: E402
from tollgate_common.service_main import serve  # noqa: E402

from tollgate_auth.app import MIGRATIONS_DIR, AuthApp, load_vault  # noqa: E402
from tollgate_auth.oidc.signing_keys import SigningKeys  # noqa: E402
from tollgate_auth.settings import AuthSettings  # noqa: E402

log = logging.getLogger("tollgate_auth")


async def rotate_oidc_key(settings: AuthSettings) -> None:
    """Add a new OIDC signing key and retire the others (they verify until their tokens expire)."""
    vault = await asyncio.to_thread(load_vault, settings)
    engine = create_engine(settings.database_url, settings.database_timeouts())
    try:
        kid = await SigningKeys(engine, vault).add(retire_others=True)
        log.info("new OIDC signing key %s; running replicas pick it up within a minute", kid)
    finally:
        await engine.dispose()


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
        if args.command == "migrate":
            migrate(settings.database_url, MIGRATIONS_DIR)
            log.info("auth database migrated")
        elif settings.migrate_on_start:  # in a child: Alembic stays out of the server
            migrate_in_child("auth", settings.database_url, MIGRATIONS_DIR)
            log.info("auth database migrated")
        if args.command == "serve":
            serve("auth", lambda: AuthApp(settings))
        elif args.command == "rotate-oidc-key":
            uvloop.run(rotate_oidc_key(settings))
    except Exception:
        log.exception("auth service failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
