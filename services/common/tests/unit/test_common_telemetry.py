"""When tracing is on: the standard OTEL_* variables decide; a call carried on a stream gets
its own span only then, continuing the caller's trace."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from tollgate_common.telemetry import rpc_span, tracing_requested
from tollgate_common.testing import recorded_spans


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),  # nothing asked for: nothing instrumented
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"}, False),
    ],
)
def test_tracing_is_on_only_when_an_exporter_is_asked_for(
    environ: dict[str, str], expected: bool
) -> None:
    assert tracing_requested(environ) is expected


def test_an_rpc_span_is_nothing_when_tracing_is_off() -> None:
    carrier = {"x-request-id": "req_1"}
    with pytest.raises(ValueError, match="raised inside"), rpc_span("/s/M", "client", carrier):
        raise ValueError("raised inside")
    assert carrier == {"x-request-id": "req_1"}  # no trace context written


def test_an_rpc_span_carries_the_trace_from_client_to_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporter = recorded_spans(monkeypatch)

    carrier: dict[str, str] = {}
    with rpc_span("/tollgate.router.v1.RouterService/Generate", "client", carrier):
        pass
    with rpc_span("/tollgate.router.v1.RouterService/Generate", "server", carrier):
        pass

    client, server = exporter.get_finished_spans()
    assert client.kind is trace.SpanKind.CLIENT and server.kind is trace.SpanKind.SERVER
    assert server.name == "tollgate.router.v1.RouterService/Generate"
    assert server.parent is not None and server.parent.span_id == client.context.span_id
    assert carrier["traceparent"].split("-")[1] == format(client.context.trace_id, "032x")
