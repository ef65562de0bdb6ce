"""``python -m tollgate_edge``: serve the edge until SIGTERM/SIGINT, then drain and stop."""

from __future__ import annotations

from tollgate_common import grpc_defaults

grpc_defaults.apply()  # before gRPC is first imported

import logging  # noqa: E402
import sys  # noqa: E402

import uvloop  # noqa: E402
from tollgate_common.lifecycle import run_until_stopped  # noqa: E402
from tollgate_common.logs import configure_logging  # noqa: E402
from tollgate_common.telemetry import traced  # noqa: E402

from tollgate_edge.app import EdgeServer  # noqa: E402
from tollgate_edge.settings import EdgeSettings  # noqa: E402


async def serve(settings: EdgeSettings) -> None:
    """Serve until SIGINT / SIGTERM, then drain and stop (:class:`EdgeServer`'s order)."""
    server = EdgeServer(settings)
    await run_until_stopped(server.start, server.stop)


def main(argv: list[str] | None = None) -> None:
    """``serve`` (the default); ``migrate`` is accepted like the services' and does nothing (the
    edge has no database)."""
    command = (sys.argv[1:] if argv is None else argv) or ["serve"]
    if command[0] == "migrate":
        return
    if command[0] != "serve":
        raise SystemExit(f"usage: python -m tollgate_edge [serve|migrate], not {command[0]!r}")
    settings = EdgeSettings()
    configure_logging("edge", settings.log_level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    with traced("edge"):
        uvloop.run(serve(settings))


if __name__ == "__main__":
    main()
