"""Langfuse's OpenAI drop-in (``from langfuse.openai import openai``) pointed at Tollgate with its
``base_url`` and ``api_key`` only, tracing off (``LANGFUSE_TRACING_ENABLED=false``: no Langfuse
server here): a chat completion and a stream go through, and the wrapper's own arguments
(``name``, ``metadata``) stay with the wrapper instead of reaching the provider. The client runs
in a process of its own (``langfuse_client.py``): the drop-in wraps the process-wide ``openai``
module, which would strip ``metadata`` from every later test of the session."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.py_clients import CHAT_MODEL, Gateway, activity_row, gateway, sent
from tests.support.upstreams import Upstream

__all__ = ["gateway"]

CLIENT = Path(__file__).with_name("langfuse_client.py")


def _run(gateway: Gateway, kind: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(CLIENT), gateway.base_url, gateway.api_key, CHAT_MODEL, kind],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_chat_completion(gateway: Gateway, fresh_upstream: Upstream) -> None:
    completion = _run(gateway, "chat")

    assert completion["content"] == "Echo: Hello from Langfuse"
    assert completion["usage"] == [3, 4]
    [body] = sent(fresh_upstream, "/chat/completions")
    assert body["model"] == "gpt-4o"
    assert body["messages"] == [{"role": "user", "content": "Hello from Langfuse"}]
    assert "name" not in body and "metadata" not in body
    row = activity_row(gateway, completion["id"])
    assert row["model"] == CHAT_MODEL and row["streamed"] is False


def test_a_stream(gateway: Gateway, fresh_upstream: Upstream) -> None:
    fresh_upstream.script(chunk_delay_ms=20)  # one word per read, not all in one

    stream = _run(gateway, "stream")

    pieces = stream["pieces"]
    assert len(pieces) > 1 and "".join(pieces) == "Echo: stream these words please"
    assert stream["completion_tokens"] == 5
    [body] = sent(fresh_upstream, "/chat/completions")
    assert body["stream"] is True and "name" not in body
    assert activity_row(gateway, stream["id"])["streamed"] is True
