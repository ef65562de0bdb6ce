"""``python -m tollgate_edge``: serve the edge until SIGTERM/SIGINT, then drain and stop."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import uvloop
from aiohttp import web
from prometheus_client import CollectorRegistry
from tollgate_common.logs import configure_logging
from tollgate_common.metrics import MetricsServer
from tollgate_common.telemetry import traced

from tollgate_edge.app import create_app, create_runner
from tollgate_edge.settings import EdgeSettings

log = logging.getLogger("tollgate_edge")


async def serve(settings: EdgeSettings) -> None:
    registry = CollectorRegistry()
    metrics = MetricsServer(registry, settings.metrics_addr)
    runner = create_runner(create_app(settings, registry), settings.shutdown_grace_seconds)
    await runner.setup()
    host, port = settings.listen_host_port()
    site = web.TCPSite(runner, host, port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await site.start()
        metrics.start()
        log.info("edge listening on %s", settings.listen_addr)
        await stop.wait()
        log.info("edge shutting down")
    finally:
        # Stops accepting, lets in-flight requests finish (up to the grace period), then runs the
        # cleanup context that closes the peer channels.
        await runner.cleanup()
        metrics.stop()
    log.info("edge stopped")


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
