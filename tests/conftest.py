"""The whole suite as real processes (nats-server, Envoy, the four services, the edge) in
front of a fake OpenAI upstream that speaks the real Chat Completions protocol."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tollgate_cli.stack import Ports, Stack, StackConfig
from tollgate_common.testing import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[1]
UPSTREAM_KEY = "sk-fake-upstream-key"


@dataclass
class Upstream:
    url: str

    def script(self, **behaviour: object) -> None:
        httpx.post(f"{self.url}/_fake/script", json=behaviour).raise_for_status()

    def requests(self) -> list[dict[str, object]]:
        reply = httpx.get(f"{self.url}/_fake/requests")
        reply.raise_for_status()
        data = reply.json()
        return list(data["requests"] if isinstance(data, dict) else data)

    def reset(self) -> None:
        httpx.post(f"{self.url}/_fake/reset").raise_for_status()


@contextlib.contextmanager
def fake_openai(api_key: str) -> Iterator[Upstream]:
    """A fake OpenAI upstream in its own process, as a provider runs apart from the gateway."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.openai_upstream",
            "--port",
            str(port),
            "--api-key",
            api_key,
        ],
        cwd=REPO,
    )
    try:
        wait_for_port(port)
        yield Upstream(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def upstream() -> Iterator[Upstream]:
    with fake_openai(UPSTREAM_KEY) as running:
        yield running


@pytest.fixture(scope="session")
def stack(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = StackConfig(
        data_dir=tmp_path_factory.mktemp("tollgate-data"),
        ports=Ports.free(),
        env={
            "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"{upstream.url}/v1",
            "TOLLGATE_PROVIDER_OPENAI_API_KEY": UPSTREAM_KEY,
        },
    )
    with Stack(config) as running:
        yield running


@pytest.fixture
def fresh_upstream(upstream: Upstream) -> Upstream:
    upstream.reset()
    return upstream
