"""The whole suite as real processes (nats-server, Envoy, the four services, the edge) in
front of fake providers that speak the real wire protocols: OpenAI Chat Completions, Anthropic
Messages and the Gemini API."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from tollgate_cli.stack import Ports, Stack, StackConfig
from tollgate_common.testing import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[1]
UPSTREAM_KEY = "sk-fake-upstream-key"
ANTHROPIC_KEY = "sk-ant-fake-upstream-key"
GEMINI_KEY = "AIza-fake-upstream-key"
# Models the suite serves from the Anthropic and Gemini fakes (TOLLGATE_CATALOG_FILE), with list
# prices (USD per token) the tests compute costs from.
ANTHROPIC_MODEL = "anthropic/claude-suite-test"
GEMINI_MODEL = "google/gemini-suite-test"
ANTHROPIC_PRICE = {
    "input": "0.000003",
    "output": "0.000015",
    "input_cache_read": "0.0000003",
    "input_cache_write": "0.00000375",
}
GEMINI_PRICE = {"input": "0.0000003", "output": "0.0000025", "input_cache_read": "0.000000075"}
# An embedding model served by the OpenAI fake and the Gemini fake (failover between the two).
EMBEDDING_MODEL = "acme/embed-suite-test"
EMBEDDING_PRICES = {
    "openai": {"input": "0.00000002", "output": "0"},
    "google": {"input": "0.00000015", "output": "0"},
}
SUITE_CATALOG = {
    "version": "suite-tests",
    "models": [
        {
            "id": ANTHROPIC_MODEL,
            "name": "Claude (suite tests)",
            "input_modalities": ["text", "image", "file"],
            "context_window": 200000,
            "max_output_tokens": 64000,
            "providers": [
                {
                    "provider": "anthropic",
                    "provider_model_id": "claude-sonnet-4-20250514",
                    "pricing": ANTHROPIC_PRICE,
                }
            ],
        },
        {
            "id": GEMINI_MODEL,
            "name": "Gemini (suite tests)",
            "input_modalities": ["text", "image", "audio", "video", "file"],
            "context_window": 1048576,
            "max_output_tokens": 65536,
            "providers": [
                {
                    "provider": "google",
                    "provider_model_id": "gemini-2.5-flash",
                    "pricing": GEMINI_PRICE,
                }
            ],
        },
        {
            "id": EMBEDDING_MODEL,
            "name": "Embeddings (suite tests)",
            "type": "embedding",
            "context_window": 2048,
            "dimensions": 1536,
            "providers": [
                {
                    "provider": "openai",
                    "provider_model_id": "text-embedding-3-small",
                    "pricing": EMBEDDING_PRICES["openai"],
                },
                {
                    "provider": "google",
                    "provider_model_id": "gemini-embedding-001",
                    "pricing": EMBEDDING_PRICES["google"],
                },
            ],
        },
    ],
}


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

    def accept_keys(self, *keys: str) -> None:
        """More API keys the fake takes (OpenAI fake only)."""
        httpx.post(f"{self.url}/_fake/keys", json={"keys": list(keys)}).raise_for_status()


@contextmanager
def fake_upstream(module: str, api_key: str) -> Iterator[Upstream]:
    """``python -m tests.fakes.<module>`` on a free port, stopped afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", f"tests.fakes.{module}", "--port", str(port), "--api-key", api_key],
        cwd=REPO,
    )
    try:
        wait_for_port(port)
        yield Upstream(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


def fake_openai(api_key: str) -> AbstractContextManager[Upstream]:
    """A fake OpenAI upstream in its own process, as a provider runs apart from the gateway."""
    return fake_upstream("openai_upstream", api_key)


@pytest.fixture(scope="session")
def upstream() -> Iterator[Upstream]:
    with fake_openai(UPSTREAM_KEY) as running:
        yield running


@pytest.fixture(scope="session")
def anthropic_upstream() -> Iterator[Upstream]:
    with fake_upstream("anthropic_upstream", ANTHROPIC_KEY) as running:
        yield running


@pytest.fixture(scope="session")
def gemini_upstream() -> Iterator[Upstream]:
    with fake_upstream("gemini_upstream", GEMINI_KEY) as running:
        yield running


@pytest.fixture(scope="session")
def stack(
    upstream: Upstream,
    anthropic_upstream: Upstream,
    gemini_upstream: Upstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    catalog_file = tmp_path_factory.mktemp("tollgate-catalog") / "catalog.json"
    catalog_file.write_bytes(orjson.dumps(SUITE_CATALOG))
    config = StackConfig(
        data_dir=tmp_path_factory.mktemp("tollgate-data"),
        ports=Ports.free(),
        env={
            "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"{upstream.url}/v1",
            "TOLLGATE_PROVIDER_OPENAI_API_KEY": UPSTREAM_KEY,
            "TOLLGATE_PROVIDER_ANTHROPIC_BASE_URL": f"{anthropic_upstream.url}/v1",
            "TOLLGATE_PROVIDER_ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            "TOLLGATE_PROVIDER_GOOGLE_BASE_URL": f"{gemini_upstream.url}/v1beta",
            "TOLLGATE_PROVIDER_GOOGLE_API_KEY": GEMINI_KEY,
            "TOLLGATE_CATALOG_FILE": str(catalog_file),
        },
    )
    with Stack(config) as running:
        yield running


@pytest.fixture
def fresh_upstream(upstream: Upstream) -> Upstream:
    upstream.reset()
    return upstream


@pytest.fixture
def fresh_anthropic(anthropic_upstream: Upstream) -> Upstream:
    anthropic_upstream.reset()
    return anthropic_upstream


@pytest.fixture
def fresh_gemini(gemini_upstream: Upstream) -> Upstream:
    gemini_upstream.reset()
    return gemini_upstream
