"""The client's ``anthropic-beta`` header reaches the router (for the Anthropic adapter to send);
other headers do not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

Edge = Any

pytestmark = pytest.mark.asyncio

USER = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def client(edge: Edge) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=f"{edge.url}/v1", api_key="x", default_headers=edge.headers, max_retries=0
    ) as api:
        yield api


async def test_anthropic_beta_is_forwarded_to_the_router(
    client: openai.AsyncOpenAI, edge: Edge
) -> None:
    await client.chat.completions.create(
        model="anthropic/claude-sonnet-4",
        messages=USER,
        extra_headers={
            "anthropic-beta": "context-1m-2025-08-07",
            "x-unrelated": "nope",
        },
    )

    [sent] = edge.fakes.router.requests
    assert dict(sent.provider_headers) == {"anthropic-beta": "context-1m-2025-08-07"}


async def test_without_the_header_nothing_is_forwarded(
    client: openai.AsyncOpenAI, edge: Edge
) -> None:
    await client.chat.completions.create(model="anthropic/claude-sonnet-4", messages=USER)

    [sent] = edge.fakes.router.requests
    assert dict(sent.provider_headers) == {}
