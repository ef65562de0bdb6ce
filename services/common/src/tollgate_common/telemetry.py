"""OpenTelemetry tracing, configured by the standard ``OTEL_*`` variables.

Tracing is on when an exporter is asked for: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set, or ``OTEL_TRACES_EXPORTER`` names ``otlp`` or
``console``; ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` turn it off. When it is
off nothing is instrumented, so the request path pays nothing. The protocol is
``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` / ``OTEL_EXPORTER_OTLP_PROTOCOL`` (``grpc`` or
``http/protobuf``, the default); the exporter reads its endpoint, headers and timeout from the
environment itself, and the batch processor its ``OTEL_BSP_*`` settings.

Context crosses processes as W3C ``traceparent``: in gRPC metadata (the grpc instrumentation's
interceptors), in HTTP headers (Envoy → edge) and in NATS message headers (outbox → consumers).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

if TYPE_CHECKING:
    from opentelemetry import context as otel_context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

_TRUE = {"1", "true", "yes", "on"}


def tracing_requested(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() in _TRUE:
        return False
    exporters = {
        name.strip().lower()
        for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",")
        if name.strip()
    }
    if "none" in exporters:
        return False
    if exporters & {"otlp", "console"}:
        return True
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def _exporter(environ: Mapping[str, str]) -> SpanExporter:
    exporters = {n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "").split(",")}
    if "console" in exporters and "otlp" not in exporters:
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return HttpExporter()


def setup_tracing(service: str, environ: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Install the process's tracer provider when tracing is requested; None otherwise.

    Called once from a process's entry point, before servers and channels are built (they ask
    :func:`tracing_enabled` whether to instrument)."""
    env = os.environ if environ is None else environ
    if not tracing_requested(env):
        # Installed so that the API's global lookup stops consulting the environment on every
        # call (it does while no provider is set): asking :func:`tracing_enabled` on the
        # request path is then one isinstance check.
        trace.set_tracer_provider(trace.NoOpTracerProvider())
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create(
        {"service.name": f"tollgate-{service}", "service.namespace": "tollgate"}
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(_exporter(env)))
    trace.set_tracer_provider(provider)
    return provider


def shutdown_tracing() -> None:
    """Flush and stop the exporter (spans still buffered are sent)."""
    if tracing_enabled():
        shutdown = getattr(trace.get_tracer_provider(), "shutdown", None)
        if shutdown is not None:
            shutdown()


def tracing_enabled() -> bool:
    """Whether a tracer provider was installed (by :func:`setup_tracing`, or a test's)."""
    provider = trace.get_tracer_provider()
    return not isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider))


def server_interceptors() -> list[Any]:
    """gRPC server interceptors that continue the caller's trace (none when tracing is off)."""
    if not tracing_enabled():
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor()]  # type: ignore[no-untyped-call]


def client_interceptors() -> list[Any]:
    """gRPC client interceptors that send ``traceparent`` in the call's metadata."""
    if not tracing_enabled():
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    return list(aio_client_interceptors())  # type: ignore[no-untyped-call]


def inject(carrier: MutableMapping[str, str]) -> None:
    """Write the current trace context (``traceparent``, ``tracestate``) into ``carrier``."""
    if tracing_enabled():
        from opentelemetry import propagate

        propagate.inject(carrier)


def extract(carrier: Mapping[str, str] | None) -> otel_context.Context | None:
    """The trace context a message or request carried, if tracing is on and it carried one."""
    if not carrier or not tracing_enabled():
        return None
    from opentelemetry import propagate

    return propagate.extract(carrier)


def rpc_span(
    method: str, kind: str, carrier: MutableMapping[str, str]
) -> contextlib.AbstractContextManager[None]:
    """A span for one RPC carried as a message on a long-lived stream (the router's
    Generations), where no gRPC instrumentation sees the call: ``kind`` ``"client"`` starts it
    under the current context and writes its context into ``carrier``; ``"server"`` starts it
    under the context ``carrier`` holds and makes it current. Nothing when tracing is off."""
    if not tracing_enabled():
        return contextlib.nullcontext()
    return _rpc_span(method, kind, carrier)


@contextlib.contextmanager
def _rpc_span(method: str, kind: str, carrier: MutableMapping[str, str]) -> Iterator[None]:
    from opentelemetry import context as otel_context
    from opentelemetry import propagate

    tracer = trace.get_tracer("tollgate.rpc")
    server = kind == "server"
    parent = propagate.extract(carrier) if server and "traceparent" in carrier else None
    name = method.lstrip("/")
    span_kind = trace.SpanKind.SERVER if server else trace.SpanKind.CLIENT
    with tracer.start_as_current_span(name, context=parent, kind=span_kind) as span:
        span.set_attribute("rpc.system", "grpc")
        if not server:
            propagate.inject(carrier, context=otel_context.get_current())
        yield


def start_rpc_span(method: str, carrier: MutableMapping[str, str]) -> Callable[[], None]:
    """A client span for one streaming RPC carried on a long-lived stream, started under the
    current context (not made current: the caller goes on with its own work while the stream
    runs) and written into ``carrier``; returns what ends it. Nothing when tracing is off."""
    if not tracing_enabled():
        return _nothing
    from opentelemetry import propagate

    span = trace.get_tracer("tollgate.rpc").start_span(
        method.lstrip("/"), kind=trace.SpanKind.CLIENT, attributes={"rpc.system": "grpc"}
    )
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return span.end


def _nothing() -> None:
    return None


def current_trace_id() -> str:
    """The current span's trace id in hex, or ``""``."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else ""


def record_consumed(
    consumer: str,
    deliveries: Sequence[tuple[str, str, Mapping[str, str]]],
    started_ns: int,
    outcomes: Sequence[str],
) -> None:
    """One CONSUMER span per delivered message that carried a trace context, as a child of the
    producer's span, from when its batch was received until it was applied.

    ``deliveries`` are ``(subject, message id, headers)``; ``outcomes`` their ack / nak / term.
    """
    if not tracing_enabled():
        return
    from opentelemetry import propagate

    tracer = trace.get_tracer("tollgate.bus")
    for (subject, msg_id, headers), outcome in zip(deliveries, outcomes, strict=True):
        parent = propagate.extract(headers) if "traceparent" in headers else None
        if parent is None:
            continue
        span = tracer.start_span(
            f"process {subject}",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            start_time=started_ns,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": subject,
                "messaging.consumer.group.name": consumer,
                "messaging.message.id": msg_id,
                "tollgate.outcome": outcome,
            },
        )
        if outcome != "ack":
            span.set_status(trace.Status(trace.StatusCode.ERROR, outcome))
        span.end()


@contextlib.contextmanager
def traced(service: str) -> Iterator[None]:
    """Tracing for the life of a process's main loop: set up, then flushed at exit."""
    setup_tracing(service)
    try:
        yield
    finally:
        shutdown_tracing()
