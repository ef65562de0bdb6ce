"""The fake providers as the suite runs them: each in its own process (as a provider runs apart
from the gateway) on a free port, scripted and read over its ``/_fake`` control API."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import httpx
from tollgate_common.testing import free_port, wait_for_port

from tests.support import REPO

UPSTREAM_KEY = "sk-fake-upstream-key"
ANTHROPIC_KEY = "sk-ant-fake-upstream-key"
GEMINI_KEY = "AIza-fake-upstream-key"


@dataclass(frozen=True)
class Upstream:
    """A running fake provider, driven over its ``/_fake`` control API."""

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
