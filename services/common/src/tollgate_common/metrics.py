"""Prometheus metrics: one registry per process, served on its own address.

Each process serves ``GET /metrics`` (the Prometheus text format) on ``TOLLGATE_<SVC>_METRICS_ADDR``
(``host:port``; empty, the default, serves nothing). The address is internal: Envoy never routes
to it. Metric names are documented in ``docs/observability.md``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter as Tally
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

# Seconds: from well under a millisecond (internal calls) to a long generation.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
)

# Messages per fetched batch: from a fact at a time to a full fetch (512).
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 512)

Metric = TypeVar("Metric", Counter, Gauge, Histogram)


class Series(Generic[Metric]):
    """A labelled metric's series, each looked up at the metric once per label values: its
    ``labels()`` takes a lock and converts every value on each call, about what counting
    costs. For the metrics counted on every request."""

    def __init__(self, metric: Metric) -> None:
        self._metric: Metric = metric
        self._series: dict[tuple[str, ...], Metric] = {}

    def __call__(self, *values: str) -> Metric:
        series = self._series.get(values)
        if series is None:
            series = self._series[values] = self._metric.labels(*values)
        return series


class MetricsServer:
    """The ``/metrics`` endpoint of one process (a small thread of prometheus_client's)."""

    def __init__(self, registry: CollectorRegistry, addr: str) -> None:
        self._registry = registry
        self._addr = addr
        self._server: Any = None
        self.port = 0

    def start(self) -> int:
        if not self._addr:
            return 0
        host, _, port = self._addr.rpartition(":")
        try:
            self._server, _thread = start_http_server(
                int(port), addr=host or "127.0.0.1", registry=self._registry
            )
        except OSError as exc:
            raise OSError(f"metrics: cannot listen on {self._addr} (in use?)") from exc
        self.port = int(self._server.server_port)
        log.info("metrics on %s:%d/metrics", host or "127.0.0.1", self.port)
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class GrpcServerMetrics(grpc.aio.ServerInterceptor):
    """Handled calls and their duration per method and status code."""

    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self._handled = Series(
            Counter(
                "tollgate_grpc_server_handled",
                "gRPC calls handled, by method and status code.",
                ["service", "method", "code"],
                registry=registry,
            )
        )
        self._seconds = Series(
            Histogram(
                "tollgate_grpc_server_handling_seconds",
                "Time to handle a gRPC call (streams: until the last message).",
                ["service", "method"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            )
        )
        self._service = service
        self._wrapped: dict[tuple[str, int], tuple[Any, Any]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler: Any = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith("/grpc.health."):
            return handler
        key = (method, id(handler))
        wrapped = self._wrapped.get(key)
        if wrapped is None:  # built once per (method, handler), not per call
            wrapped = self._wrapped[key] = (handler, self._wrap(handler, method.rsplit("/", 1)[-1]))
        return wrapped[1]

    def observe(self, method: str, code: str, seconds: float) -> None:
        """Count one call of ``method`` (its name, ``Generate``) that ended with ``code`` (a
        status code's name) after ``seconds``."""
        self._handled(self._service, method, code).inc()
        self._seconds(self._service, method).observe(seconds)

    def _observe(
        self, method: str, started: float, context: grpc.aio.ServicerContext[Any, Any], failed: bool
    ) -> None:
        code = context.code()
        # No status set: a clean return, or an exception grpc reports as UNKNOWN.
        name = code.name if isinstance(code, grpc.StatusCode) else ("UNKNOWN" if failed else "OK")
        self.observe(method, name, time.perf_counter() - started)

    def _wrap(self, handler: Any, method: str) -> Any:
        if handler.unary_unary is not None:
            inner = handler.unary_unary

            async def unary_unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                started, failed = time.perf_counter(), True
                try:
                    response = await inner(request, context)
                    failed = False
                    return response
                finally:
                    self._observe(method, started, context, failed)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            stream_inner = handler.unary_stream

            async def unary_stream(
                request: Any, context: grpc.aio.ServicerContext[Any, Any]
            ) -> AsyncIterator[Any]:
                started, failed = time.perf_counter(), True
                try:
                    async for response in stream_inner(request, context):
                        yield response
                    failed = False
                finally:
                    self._observe(method, started, context, failed)

            return grpc.unary_stream_rpc_method_handler(
                unary_stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler


class ConsumerMetrics:
    """A durable JetStream consumer: messages handled by outcome, what storing them did (new,
    duplicate, rejected), the size of the batches it fetched, its lag (messages not yet
    delivered, and delivered but not yet acknowledged) and the age of the oldest message it has
    not acknowledged, polled from the server. A fact that keeps failing is redelivered without
    limit, so a growing age is how an outage of what it writes to shows. These counters are
    what a consumer reports per batch: it logs no line per fact or per batch."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._handled = Counter(
            "tollgate_jetstream_messages",
            "Messages a durable consumer handled, by outcome (ack, nak, term).",
            ["stream", "consumer", "outcome"],
            registry=registry,
        )
        self._stored = Counter(
            "tollgate_jetstream_facts_stored",
            "Facts a durable consumer stored, by result: new (applied now), duplicate (applied "
            "before: no effect), rejected (refused for good: dead-lettered).",
            ["stream", "consumer", "result"],
            registry=registry,
        )
        self._batch = Histogram(
            "tollgate_jetstream_batch_messages",
            "Messages per batch a durable consumer fetched and applied in one transaction.",
            ["stream", "consumer"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self._pending = Gauge(
            "tollgate_jetstream_consumer_pending_messages",
            "Messages in the stream not yet delivered to the consumer (its lag).",
            ["stream", "consumer"],
            registry=registry,
        )
        self._ack_pending = Gauge(
            "tollgate_jetstream_consumer_ack_pending_messages",
            "Messages delivered to the consumer and not yet acknowledged.",
            ["stream", "consumer"],
            registry=registry,
        )
        self._oldest = Gauge(
            "tollgate_jetstream_consumer_oldest_unacked_seconds",
            "Age of the oldest message the consumer has not acknowledged (0: none).",
            ["stream", "consumer"],
            registry=registry,
        )

    def handled(self, stream: str, consumer: str, outcomes: Sequence[str]) -> None:
        """One batch's outcomes (ack / nak / term, one per message)."""
        self._batch.labels(stream, consumer).observe(len(outcomes))
        for outcome, count in Tally(outcomes).items():
            self._handled.labels(stream, consumer, outcome).inc(count)

    def stored(self, stream: str, consumer: str, results: Sequence[str]) -> None:
        """What storing one batch did (new / duplicate / rejected, one per fact stored)."""
        for result, count in Tally(results).items():
            self._stored.labels(stream, consumer, result).inc(count)

    def lag(
        self, stream: str, consumer: str, pending: int, ack_pending: int, oldest_seconds: float
    ) -> None:
        self._pending.labels(stream, consumer).set(pending)
        self._ack_pending.labels(stream, consumer).set(ack_pending)
        self._oldest.labels(stream, consumer).set(oldest_seconds)
