"""A grpc.aio server with health, metrics, the error interceptor and a graceful stop (health
NOT_SERVING → stop accepting → drain in-flight calls). The rest of a process's lifecycle is
:mod:`tollgate_common.runtime`'s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry

from tollgate_common import telemetry
from tollgate_common.interceptors import ErrorInterceptor
from tollgate_common.internal_auth import CallerGuard, InternalKeys
from tollgate_common.metrics import GrpcServerMetrics, MetricsServer

log = logging.getLogger(__name__)

SERVER_OPTIONS: Sequence[tuple[str, Any]] = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # Accept the peers' keepalive pings (every 30 s, grpc_client.CHANNEL_OPTIONS, also when
    # idle): by default a server tolerates one ping per 5 minutes without data and answers more
    # with GOAWAY "too_many_pings", which fails the calls in flight on that connection (seen as a
    # 502 at the edge).
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.so_reuseport", 0),
)


class GrpcService:
    """One gRPC server: register servicers on :attr:`server`, then :meth:`start`; :meth:`shutdown`
    lets the calls in flight finish (``grace_seconds`` at most)."""

    def __init__(
        self,
        name: str,
        listen_addr: str,
        grace_seconds: float = 10.0,
        metrics_addr: str = "",
        keys: InternalKeys | None = None,
    ) -> None:
        self.name = name
        self.listen_addr = listen_addr
        self.grace_seconds = grace_seconds
        # The process's Prometheus registry: services add their own metrics to it.
        self.registry = CollectorRegistry()
        self._metrics = MetricsServer(self.registry, metrics_addr)
        # Tracing and metrics (when on) wrap the caller check and the error mapping, so they
        # see the status the caller gets. Without ``keys`` any caller is accepted (development).
        guard: list[grpc.aio.ServerInterceptor] = [] if keys is None else [CallerGuard(keys, name)]
        if keys is None:
            log.warning("%s: no internal secret: internal calls are not authenticated", name)
        # Calls carried inside a stream (the router's Generations) are counted here too.
        self.call_metrics = GrpcServerMetrics(name, self.registry)
        self._drains: list[Callable[[], None]] = []
        interceptors = [
            *telemetry.server_interceptors(),
            self.call_metrics,
            *guard,
            ErrorInterceptor(),
        ]
        self.server = grpc.aio.server(interceptors=interceptors, options=SERVER_OPTIONS)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self._service_names: list[str] = [""]
        self.port = 0

    def on_drain(self, drain: Callable[[], None]) -> None:
        """Call ``drain()`` once the server refuses new calls at shutdown: long-lived streams
        that carry calls of their own (the router's Generations) tell their callers to send
        those elsewhere."""
        self._drains.append(drain)

    def add_service_name(self, full_name: str) -> None:
        """A fully-qualified service name reported by the health service."""
        self._service_names.append(full_name)

    async def start(self) -> int:
        try:
            self.port = self.server.add_insecure_port(self.listen_addr)
        except RuntimeError as exc:  # grpc raises RuntimeError when it cannot bind
            raise OSError(f"{self.name}: cannot listen on {self.listen_addr} (in use?)") from exc
        await self.server.start()
        self._metrics.start()
        for service_name in self._service_names:
            await self.health.set(service_name, health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "%s listening on %s", self.name, self.listen_addr.rsplit(":", 1)[0] + f":{self.port}"
        )
        return self.port

    async def shutdown(self) -> None:
        """Report NOT_SERVING, stop accepting calls and wait for those in flight (streams
        included) for ``grace_seconds`` at most; then stop serving metrics."""
        await self.health.enter_graceful_shutdown()
        stopping = asyncio.ensure_future(self.server.stop(self.grace_seconds))
        await asyncio.sleep(0)  # the server refuses new calls from here on
        for drain in self._drains:
            drain()
        await stopping
        self._metrics.stop()
