"""The suite's fixtures: the fake providers (each in its own process) and the whole suite as real
processes (nats-server, Envoy, the four services, the edge) in front of them, speaking the real
wire protocols: OpenAI Chat Completions, Anthropic Messages and the Gemini API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tollgate_cli.stack import Stack

from tests.support.stacks import suite_config
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
    config = suite_config(tmp_path_factory, upstream, anthropic_upstream, gemini_upstream)
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
