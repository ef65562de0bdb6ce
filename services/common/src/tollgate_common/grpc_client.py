"""Long-lived client channels to peer services."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tollgate_common import telemetry
from tollgate_common.internal_auth import InternalKeys, client_interceptors

# round_robin instead of gRPC's default pick_first: when the target resolves to several
# addresses (``dns:///router-headless:50062`` in Kubernetes: one per ready pod) the channel keeps
# a connection to each and spreads its calls over them; pick_first would send every call to the
# first. Over a single address (a ClusterIP, 127.0.0.1) both behave the same. docs/scaling.md.
SERVICE_CONFIG = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})

CHANNEL_OPTIONS: Sequence[tuple[str, Any]] = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.enable_retries", 1),
    ("grpc.service_config", SERVICE_CONFIG),
    # A peer that was down (restarted by `tollgate up`, a pod rescheduled) is tried again every
    # 2 s at most: gRPC's default backoff grows to 120 s, and calls fail fast until it reconnects.
    ("grpc.max_reconnect_backoff_ms", 2_000),
)


def open_channel(addr: str, keys: InternalKeys | None = None, caller: str = "") -> grpc.aio.Channel:
    """One channel per peer for the life of the process (HTTP/2 multiplexes the calls).

    ``addr`` is ``host:port`` or any gRPC target (``dns:///host:port``,
    ``ipv4:a:port,b:port``); calls are balanced over every address it resolves to. With
    ``keys``, every call carries ``caller``'s internal token (docs/architecture.md, "Trust")."""
    interceptors = [*telemetry.client_interceptors(), *client_interceptors(keys, caller)]
    return grpc.aio.insecure_channel(
        addr, options=CHANNEL_OPTIONS, interceptors=interceptors or None
    )


async def is_serving(channel: grpc.aio.Channel, deadline_seconds: float = 1.0) -> bool:
    """Whether the peer's grpc.health.v1 says SERVING."""
    stub: Any = health_pb2_grpc.HealthStub(channel)
    try:
        reply = await stub.Check(
            health_pb2.HealthCheckRequest(service=""), timeout=deadline_seconds
        )
    except grpc.aio.AioRpcError:
        return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
