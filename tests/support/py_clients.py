"""What the Python client tests share: Tollgate's base URL and key as a user would hand them to
a client, the fake OpenAI provider's view of what reached it, and a weather tool.

The clients are heavy to import, so each test module imports its own inside the tests; this
module imports none of them. Fixtures here are imported by name into the test modules.
"""

from __future__ import annotations

import importlib.util
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tollgate_cli.stack import Stack

from tests.support.tools import WEATHER
from tests.support.upstreams import Upstream

CHAT_MODEL = "openai/gpt-4o"
EMBEDDING_MODEL = "openai/text-embedding-3-small"
QUESTION = "What is the weather in Paris?"
WEATHER_TOOL: dict[str, Any] = WEATHER["function"]  # type: ignore[assignment]


@dataclass(frozen=True)
class Gateway:
    """Tollgate as a user points a client at it: the ``/v1`` base URL and an API key."""

    base_url: str
    api_key: str


@pytest.fixture
def gateway(stack: Stack) -> Gateway:
    return Gateway(base_url=stack.base_url, api_key=stack.bootstrap_key())


def sent(upstream: Upstream, suffix: str) -> list[dict[str, Any]]:
    """The JSON bodies the provider received on paths ending with ``suffix``, in order."""
    return [
        r["body"]  # type: ignore[misc]
        for r in upstream.requests()
        if str(r["path"]).endswith(suffix)
    ]


def sent_headers(upstream: Upstream, suffix: str) -> list[dict[str, str]]:
    return [
        r["headers"]  # type: ignore[misc]
        for r in upstream.requests()
        if str(r["path"]).endswith(suffix)
    ]


def tool_results(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``(tool_call_id, content)`` of each tool message the provider received."""
    return [(m["tool_call_id"], m["content"]) for m in body["messages"] if m["role"] == "tool"]


def call_arguments(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The ``(name, arguments)`` of each tool call the assistant turns sent back carried."""
    return [
        (c["function"]["name"], json.loads(c["function"]["arguments"]))
        for m in body["messages"]
        if m["role"] == "assistant"
        for c in m.get("tool_calls") or ()
    ]


def activity_row(gateway: Gateway, generation_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """The request's row in ``GET /v1/requests`` (the activity log), once the activity service
    has recorded it (facts travel asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = httpx.get(
            f"{gateway.base_url}/requests",
            params={"limit": "100"},
            headers={"authorization": f"Bearer {gateway.api_key}"},
        )
        reply.raise_for_status()
        rows = [r for r in reply.json()["data"] if r["generationId"] == generation_id]
        if rows or time.monotonic() > deadline:
            assert rows, f"{generation_id} not in the activity log"
            row: dict[str, Any] = rows[0]
            return row
        time.sleep(0.1)


def bundled_tiktoken_cache() -> Path:
    """tiktoken's BPE files as the ``litellm`` package ships them (this machine reaches no
    download site): with ``TIKTOKEN_CACHE_DIR`` set to it, clients that tokenize before
    calling (langchain-openai's embeddings) work offline, unchanged."""
    spec = importlib.util.find_spec("litellm")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
