"""HTTP instrumentation of the edge: Prometheus request metrics, and a SERVER span per request
when tracing is on (continuing the trace Envoy started, from its ``traceparent`` header).

Both middlewares sit outside the error middleware, so they see the status the client gets.
Routes are labelled by their pattern (``/v1/models/{model_id}``), never by the raw path.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from opentelemetry import propagate, trace
from prometheus_client import CollectorRegistry, Counter, Histogram
from tollgate_common import telemetry
from tollgate_common.metrics import LATENCY_BUCKETS

from tollgate_edge.identity import CALLER

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def metrics_middleware(registry: CollectorRegistry) -> Middleware:
    requests = Counter(
        "tollgate_http_requests",
        "HTTP requests answered by the edge, by route, method and status.",
        ["route", "method", "status"],
        registry=registry,
    )
    seconds = Histogram(
        "tollgate_http_request_duration_seconds",
        "Time to answer an HTTP request (streams: until the last chunk).",
        ["route", "method"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started, status = time.perf_counter(), 500
        try:
            response = await handler(request)
            status = response.status
            return response
        finally:
            route = _route(request)
            requests.labels(route, request.method, str(status)).inc()
            seconds.labels(route, request.method).observe(time.perf_counter() - started)

    return middleware


def tracing_middleware() -> Middleware | None:
    """None when tracing is off (nothing to pay per request)."""
    if not telemetry.tracing_enabled():
        return None
    tracer = trace.get_tracer("tollgate.edge")

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = _route(request)
        with tracer.start_as_current_span(
            f"{request.method} {route}",
            context=propagate.extract(request.headers),
            kind=trace.SpanKind.SERVER,
            attributes={
                "http.request.method": request.method,
                "http.route": route,
                "url.path": request.path,
                "tollgate.team.id": request.headers.get("x-tollgate-team-id", ""),
            },
        ) as span:
            response = await handler(request)
            if (caller := request.get(CALLER)) is not None:  # a hot route: no identity headers
                span.set_attribute("tollgate.team.id", caller.team_id)
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 500:
                span.set_status(trace.Status(trace.StatusCode.ERROR))
            return response

    return middleware
