"""The suite's fixtures: the fake providers (each in its own process) and the whole suite as real
processes (nats-server, Envoy, the four services, the edge) in front of them, speaking the real
wire protocols: OpenAI Chat Completions, Anthropic Messages and the Gemini API."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest
from tollgate_cli.stack import Stack

from tests.support.service_logs import log_dirs, notable_lines
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test's report carries what its stack's processes logged above INFO."""
    report = yield
    if report.failed and isinstance(item, pytest.Function):
        for log_dir in log_dirs(item.funcargs.values()):
            if lines := notable_lines(log_dir):
                report.sections.append((f"service logs ({log_dir})", lines))
    return report
