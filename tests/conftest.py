"""The suite's fixtures: the fake providers (each in its own process) and the whole suite as real
processes (nats-server, Envoy, the four services, the edge) in front of them, speaking the real
wire protocols: OpenAI Chat Completions, Anthropic Messages and the Gemini API."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from tollgate_cli.stack import Ports, Stack, StackConfig

from tests.support.catalog import SUITE_CATALOG
from tests.support.upstreams import (
    ANTHROPIC_KEY,
    GEMINI_KEY,
    UPSTREAM_KEY,
    Upstream,
    fake_openai,
    fake_upstream,
)


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
