"""Langfuse's OpenAI drop-in (``from langfuse.openai import openai``) pointed at Tollgate with its
``base_url`` and ``api_key`` only, tracing off (``LANGFUSE_TRACING_ENABLED=false``: no Langfuse
server here): a chat completion and a stream go through, and the wrapper's own arguments
(``name``, ``metadata``) stay with the wrapper instead of reaching the provider."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.support.py_clients import CHAT_MODEL, Gateway, activity_row, gateway, sent
from tests.support.upstreams import Upstream

__all__ = ["gateway"]


@pytest.fixture
def openai(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The wrapped ``openai`` module, tracing off."""
    monkeypatch.setenv("LANGFUSE_TRACING_ENABLED", "false")
    from langfuse.openai import openai  # type: ignore[attr-defined]  # the wrapped module

    wrapped: ModuleType = openai
    return wrapped


def test_a_chat_completion(openai: ModuleType, gateway: Gateway, fresh_upstream: Upstream) -> None:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=gateway.api_key)

    completion = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Hello from Langfuse"}],
        name="suite-greeting",
        metadata={"suite": "clients"},
    )

    assert completion.choices[0].message.content == "Echo: Hello from Langfuse"
    assert completion.usage.prompt_tokens == 3 and completion.usage.completion_tokens == 4
    [body] = sent(fresh_upstream, "/chat/completions")
    assert body["model"] == "gpt-4o"
    assert body["messages"] == [{"role": "user", "content": "Hello from Langfuse"}]
    assert "name" not in body and "metadata" not in body
    row = activity_row(gateway, completion.id)
    assert row["model"] == CHAT_MODEL and row["streamed"] is False


def test_a_stream(openai: ModuleType, gateway: Gateway, fresh_upstream: Upstream) -> None:
    fresh_upstream.script(chunk_delay_ms=20)  # one word per read, not all in one
    client = openai.OpenAI(base_url=gateway.base_url, api_key=gateway.api_key)

    chunks = list(
        client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "user", "content": "stream these words please"}],
            stream=True,
            stream_options={"include_usage": True},
            name="suite-stream",
        )
    )

    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(pieces) > 1 and "".join(pieces) == "Echo: stream these words please"
    assert chunks[-1].usage.completion_tokens == 5
    [body] = sent(fresh_upstream, "/chat/completions")
    assert body["stream"] is True and "name" not in body
    assert activity_row(gateway, chunks[0].id)["streamed"] is True
