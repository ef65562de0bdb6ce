"""Modules a library imports only when it can, kept out of a service that never uses them.

nats-py imports aiohttp, if it is installed, for its WebSocket transport (``ws://`` URLs);
Tollgate reaches NATS over TCP (``nats://``, ``tls://``). In a service that makes no other use
of aiohttp (the router, billing, activity) that import costs ~10 MiB of memory per process for
nothing. :func:`leave_out` makes such an import fail as if the module were not installed, so
the library falls back as it does without it; the service entry point calls it first, before
the library is imported. A ``ws://`` NATS URL then fails at connect time with nats-py's own
error naming aiohttp.
"""

from __future__ import annotations

import sys

# What nats-py needs only for WebSocket connections.
NATS_WEBSOCKETS = ("aiohttp",)


def leave_out(names: tuple[str, ...] = NATS_WEBSOCKETS) -> None:
    """Make ``import <name>`` fail in this process unless it already happened."""
    for name in names:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "not installed"
