"""The suite observed: its processes export traces over OTLP to a fake collector speaking the
real protocol, and each serves Prometheus metrics on a port of its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tollgate_cli.stack import Ports, Stack, StackConfig
from tollgate_common.testing import free_ports

from tests.fakes.otlp_collector import OtlpCollector
from tests.support.upstreams import UPSTREAM_KEY, Upstream

PROCESSES = ("auth", "router", "billing", "activity", "edge")


@dataclass(frozen=True)
class Observed:
    stack: Stack
    collector: OtlpCollector
    metrics: dict[str, str]  # process → its /metrics URL


@pytest.fixture(scope="module")
def observed(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    with OtlpCollector() as collector:
        # The collector is bound; the metrics ports and the stack's must differ from each other.
        ports = dict(zip(PROCESSES, free_ports(len(PROCESSES)), strict=True))
        config = StackConfig(
            data_dir=tmp_path_factory.mktemp("tollgate-telemetry"),
            ports=Ports.free(taken=ports.values()),
            env={
                "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"{upstream.url}/v1",
                "TOLLGATE_PROVIDER_OPENAI_API_KEY": UPSTREAM_KEY,
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_BSP_SCHEDULE_DELAY": "100",
                **{
                    f"TOLLGATE_{n.upper()}_METRICS_ADDR": f"127.0.0.1:{p}" for n, p in ports.items()
                },
            },
        )
        with Stack(config) as stack:
            yield Observed(
                stack, collector, {n: f"http://127.0.0.1:{p}/metrics" for n, p in ports.items()}
            )
