"""When tracing is on: the standard OTEL_* variables decide."""

from __future__ import annotations

import pytest
from tollgate_common.telemetry import tracing_requested


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
