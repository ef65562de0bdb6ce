"""gRPC's settings for a Tollgate process. gRPC reads them once, when its core starts at its
first import, so a service's entry point applies them before it imports anything else."""

from __future__ import annotations

import os
from collections.abc import MutableMapping

# gRPC's EventEngine (its newer I/O layer) off, for the older epoll poller: on the calls Tollgate
# makes (small messages on a few long-lived local channels) it costs the caller and the server
# 15-35% less CPU per call, and the whole stack ~15% less per request (docs/architecture.md,
# "Inside a service"). An operator's own GRPC_EXPERIMENTS is kept as it is.
EXPERIMENTS = "-event_engine_client,-event_engine_listener,-event_engine_for_all_other_endpoints"


def apply(environ: MutableMapping[str, str] | None = None) -> None:
    """Set gRPC's defaults in ``environ`` (the process's environment) where they are not set."""
    (os.environ if environ is None else environ).setdefault("GRPC_EXPERIMENTS", EXPERIMENTS)
