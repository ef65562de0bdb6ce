"""Envoy's tracing block, rendered from the OTEL_* variables (Envoy itself validates it in
``cli/tests/integration/test_cli_envoy_validate.py``)."""

from __future__ import annotations

import pytest
from tollgate_cli.envoy_config import EnvoyPorts, OtlpTarget, otlp_target, render

PORTS = EnvoyPorts(public=18080, admin=19901, edge=18081, auth=50061)


def test_no_collector_means_no_tracing() -> None:
    assert otlp_target({}) is None
    assert "envoy.tracers.opentelemetry" not in render(PORTS)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4317",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            },
            OtlpTarget("otel", 4317, grpc=True),
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"},
            OtlpTarget("otel", 4318, grpc=False, path="/v1/traces"),
        ),
        (
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://10.0.0.7:9999/custom/traces"},
            OtlpTarget("10.0.0.7", 9999, grpc=False, path="/custom/traces"),
        ),
        ({"OTEL_TRACES_EXPORTER": "console"}, None),
    ],
)
def test_the_collector_comes_from_the_standard_variables(
    environ: dict[str, str], expected: OtlpTarget | None
) -> None:
    assert otlp_target(environ) == expected
