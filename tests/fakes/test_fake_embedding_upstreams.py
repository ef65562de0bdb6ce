"""The fakes' embeddings endpoints as real clients see them: the OpenAI fake through the official
SDK (float and the SDK's default base64), and both fakes' request checks."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import aiohttp
import openai
import pytest

from tests.fakes.embedding_vectors import fake_vector
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.openai_upstream import FakeOpenAI

KEY = "sk-fake-embed"
GEMINI_KEY = "AIza-fake-embed"


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    upstream = FakeOpenAI(KEY)
    await upstream.start()
    yield upstream
    await upstream.stop()


@pytest.fixture
async def gemini() -> AsyncIterator[FakeGemini]:
    upstream = FakeGemini(GEMINI_KEY)
    await upstream.start()
    yield upstream
    await upstream.stop()


def test_vectors_are_deterministic_unit_float32() -> None:
    vector = fake_vector("same input", 64)

    assert vector == fake_vector("same input", 64) != fake_vector("other input", 64)
    assert math.isclose(math.fsum(v * v for v in vector), 1.0, rel_tol=1e-5)
    assert fake_vector([1, 2], 8) != fake_vector("1,2", 8)


async def test_the_sdk_gets_the_same_vectors_as_float_and_as_base64(fake: FakeOpenAI) -> None:
    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0)

    as_float = await client.embeddings.create(
        model="text-embedding-3-small", input=["one two", "three"], encoding_format="float"
    )
    default = await client.embeddings.create(
        model="text-embedding-3-small", input=["one two", "three"]
    )

    expected = [fake_vector("one two", 1536), fake_vector("three", 1536)]
    assert [d.embedding for d in as_float.data] == expected
    assert [d.embedding for d in default.data] == expected
    assert fake.requests[1]["body"]["encoding_format"] == "base64"
    assert as_float.usage.prompt_tokens == 3
    large = await client.embeddings.create(model="text-embedding-3-large", input="x", dimensions=7)
    assert len(large.data[0].embedding) == 7


@pytest.mark.parametrize(
    "body",
    [
        {"model": "m"},
        {"model": "m", "input": ""},
        {"model": "m", "input": []},
        {"model": "m", "input": ["a", 1]},
        {"model": "m", "input": "x", "encoding_format": "int8"},
        {"model": "m", "input": "x", "dimensions": 0},
    ],
)
async def test_openai_fake_rejects_what_openai_rejects(fake: FakeOpenAI, body: object) -> None:
    async with aiohttp.ClientSession() as session:
        reply = await session.post(
            f"{fake.base_url}/embeddings", json=body, headers={"Authorization": f"Bearer {KEY}"}
        )
        error = (await reply.json())["error"]

    assert reply.status == 400 and error["type"] == "invalid_request_error"


async def post_gemini(
    gemini: FakeGemini, body: object, key: str = GEMINI_KEY
) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as session:
        reply = await session.post(
            f"{gemini.base_url}/models/gemini-embedding-001:batchEmbedContents",
            json=body,
            headers={"x-goog-api-key": key} if key else {},
        )
        await reply.read()
        return reply


def embed_request(text: str, model: str = "models/gemini-embedding-001") -> dict[str, object]:
    return {"model": model, "content": {"parts": [{"text": text}]}}


async def test_gemini_fake_answers_batch_embed_contents(gemini: FakeGemini) -> None:
    body = {"requests": [embed_request("a"), {**embed_request("b"), "outputDimensionality": 5}]}
    async with aiohttp.ClientSession() as session:
        reply = await session.post(
            f"{gemini.base_url}/models/gemini-embedding-001:batchEmbedContents",
            json=body,
            headers={"x-goog-api-key": GEMINI_KEY},
        )
        answer = await reply.json()

    assert reply.status == 200
    assert answer == {
        "embeddings": [{"values": fake_vector("a", 3072)}, {"values": fake_vector("b", 5)}]
    }


@pytest.mark.parametrize(
    ("body", "key", "status"),
    [
        ({"requests": [embed_request("a")]}, "", 403),
        ({"requests": [embed_request("a")]}, "wrong", 400),
        ({"requests": []}, GEMINI_KEY, 400),
        ({"requests": [embed_request("a", "models/other")]}, GEMINI_KEY, 400),
        ({"requests": [embed_request("")]}, GEMINI_KEY, 400),
        ({"requests": [embed_request("a")] * 101}, GEMINI_KEY, 400),
    ],
)
async def test_gemini_fake_rejects_what_google_rejects(
    gemini: FakeGemini, body: object, key: str, status: int
) -> None:
    reply = await post_gemini(gemini, body, key)

    assert reply.status == status
