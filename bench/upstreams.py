"""The fake providers every target of the benchmark talks to (zero latency, each in its own
process as a provider runs apart from the gateway): the fake OpenAI and the fake Anthropic of
tests/fakes, speaking their real wire formats."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tollgate_common.testing import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
OPENAI_KEY = "sk-bench-upstream"
ANTHROPIC_KEY = "sk-ant-bench-upstream"


@dataclass(frozen=True)
class Fakes:
    openai_port: int
    openai_pid: int
    anthropic_port: int
    anthropic_pid: int

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.openai_port}/v1"

    @property
    def anthropic_origin(self) -> str:
        return f"http://127.0.0.1:{self.anthropic_port}"


@contextmanager
def _fake(module: str, key: str) -> Iterator[tuple[int, int]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", f"tests.fakes.{module}", "--port", str(port), "--api-key", key],
        cwd=ROOT,
    )
    try:
        wait_for_port(port)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def fakes() -> Iterator[Fakes]:
    with ExitStack() as stack:
        openai_port, openai_pid = stack.enter_context(_fake("openai_upstream", OPENAI_KEY))
        anthropic_port, anthropic_pid = stack.enter_context(
            _fake("anthropic_upstream", ANTHROPIC_KEY)
        )
        yield Fakes(openai_port, openai_pid, anthropic_port, anthropic_pid)
