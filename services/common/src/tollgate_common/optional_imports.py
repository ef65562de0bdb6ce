"""Modules a library imports only when it can, kept out of a service that never uses them.

nats-py imports aiohttp, if it is installed, for its WebSocket transport (``ws://`` URLs);
Tollgate reaches NATS over TCP (``nats://``, ``tls://``). In a service that makes no other use
of aiohttp (the router, billing, activity) that import costs ~10 MiB of memory per process for
nothing. :func:`leave_out` makes such an import fail as if the module were not installed, so
the library falls back as it does without it; the service entry point calls it first, before
the library is imported. A service that needs the module only now and then (auth fetches an
OIDC issuer's keys with aiohttp) imports the library with :func:`import_without` instead, and
the module itself when it needs it. A ``ws://`` NATS URL then fails at connect time with
nats-py's own error naming aiohttp.
"""

from __future__ import annotations

import importlib
import sys

# What nats-py needs only for WebSocket connections.
NATS_WEBSOCKETS = ("aiohttp",)


def leave_out(names: tuple[str, ...] = NATS_WEBSOCKETS) -> None:
    """Make ``import <name>`` fail in this process unless it already happened."""
    for name in names:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "not installed"


def import_without(module: str, names: tuple[str, ...] = NATS_WEBSOCKETS) -> None:
    """Import ``module`` as if ``names`` were not installed (those not imported already), then
    let them be imported again: ``module`` keeps its fallback, a later ``import`` loads them."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # None: "not installed"
    try:
        importlib.import_module(module)
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
