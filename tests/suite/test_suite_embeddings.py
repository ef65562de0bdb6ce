"""``POST /v1/embeddings`` through Envoy, driven by the official ``openai`` SDK: float and base64
vectors exactly as the fake provider computed them, ``dimensions`` reaching each provider's own
field, routing errors, failover from the OpenAI fake to the Gemini fake, and the usage reaching
billing."""

from __future__ import annotations

import base64
import struct
from decimal import Decimal
from typing import Any

import httpx
import openai
import orjson
import pytest
from tollgate_cli.stack import Stack

from tests.fakes.embedding_vectors import fake_vector
from tests.support.api import client, generation
from tests.support.catalog import EMBEDDING_MODEL, EMBEDDING_PRICES
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

OPENAI_SMALL = "openai/text-embedding-3-small"
GEMINI_EMBEDDING = "google/gemini-embedding-001"


def raw_post(stack: Stack, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{stack.base_url}/embeddings",
        json=body,
        headers={"authorization": f"Bearer {stack.bootstrap_key()}"},
        timeout=30,
    )


def gateway_of(response: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = (response.model_extra or {})["providerMetadata"]["gateway"]
    return metadata


def bodies(fake: Upstream, suffix: str) -> list[dict[str, Any]]:
    return [r["body"] for r in fake.requests() if str(r["path"]).endswith(suffix)]  # type: ignore[misc]


def test_float_vectors_are_the_providers_own(stack: Stack, fresh_upstream: Upstream) -> None:
    response = client(stack).embeddings.create(
        model=OPENAI_SMALL, input="the quick brown fox", encoding_format="float"
    )

    assert response.object == "list" and response.model == OPENAI_SMALL
    assert len(response.data) == 1
    item = response.data[0]
    assert item.object == "embedding" and item.index == 0
    assert item.embedding == fake_vector("the quick brown fox", 1536)
    assert response.usage.prompt_tokens == 4 and response.usage.total_tokens == 4
    (sent,) = bodies(fresh_upstream, "/embeddings")
    assert sent["model"] == "text-embedding-3-small" and sent["input"] == "the quick brown fox"
    assert sent["encoding_format"] == "float"
    gateway = gateway_of(response)
    assert gateway["generationId"].startswith("gen_")
    assert Decimal(gateway["cost"]) == 4 * Decimal("0.00000002") == Decimal(gateway["marketCost"])
    assert gateway["routing"]["finalProvider"] == "openai"


def test_the_sdk_default_base64_decodes_to_the_same_floats(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    texts = ["first input", "second, longer input here", "third"]

    raw = client(stack).embeddings.with_raw_response.create(model=OPENAI_SMALL, input=texts)
    response = raw.parse()

    # The SDK asked for base64 and got strings, which it decoded.
    assert orjson.loads(raw.http_request.content)["encoding_format"] == "base64"
    assert all(isinstance(d["embedding"], str) for d in raw.http_response.json()["data"])
    assert [d.index for d in response.data] == [0, 1, 2]
    assert [d.embedding for d in response.data] == [fake_vector(t, 1536) for t in texts]
    assert response.usage.prompt_tokens == 2 + 4 + 1
    # The provider was asked for floats whatever the client wanted.
    (sent,) = bodies(fresh_upstream, "/embeddings")
    assert sent["input"] == texts and sent["encoding_format"] == "float"


def test_base64_on_the_wire_is_little_endian_float32(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    reply = raw_post(stack, {"model": OPENAI_SMALL, "input": ["a b"], "encoding_format": "base64"})

    assert reply.status_code == 200, reply.text
    body = reply.json()
    encoded = body["data"][0]["embedding"]
    assert isinstance(encoded, str)
    raw = base64.b64decode(encoded)
    assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == fake_vector("a b", 1536)
    assert body["usage"] == {"prompt_tokens": 2, "total_tokens": 2}
    assert body["providerMetadata"]["gateway"]["generationId"].startswith("gen_")


def test_token_arrays_pass_through(stack: Stack, fresh_upstream: Upstream) -> None:
    response = client(stack).embeddings.create(
        model=OPENAI_SMALL, input=[[1, 2, 3], [4, 5]], encoding_format="float"
    )

    assert [d.embedding for d in response.data] == [
        fake_vector([1, 2, 3], 1536),
        fake_vector([4, 5], 1536),
    ]
    assert response.usage.prompt_tokens == 5
    (sent,) = bodies(fresh_upstream, "/embeddings")
    assert sent["input"] == [[1, 2, 3], [4, 5]]


def test_dimensions_reach_openai_as_dimensions(stack: Stack, fresh_upstream: Upstream) -> None:
    response = client(stack).embeddings.create(
        model=OPENAI_SMALL, input="short", dimensions=256, user="end-user-7"
    )

    assert response.data[0].embedding == fake_vector("short", 256)
    (sent,) = bodies(fresh_upstream, "/embeddings")
    assert sent["dimensions"] == 256 and sent["user"] == "end-user-7"


def test_gemini_gets_output_dimensionality(stack: Stack, fresh_gemini: Upstream) -> None:
    texts = ["hello gemini", "and again"]

    response = client(stack).embeddings.create(model=GEMINI_EMBEDDING, input=texts, dimensions=128)

    assert response.model == GEMINI_EMBEDDING
    assert [d.embedding for d in response.data] == [fake_vector(t, 128) for t in texts]
    (sent,) = bodies(fresh_gemini, ":batchEmbedContents")
    assert sent["requests"] == [
        {
            "model": "models/gemini-embedding-001",
            "content": {"parts": [{"text": text}]},
            "outputDimensionality": 128,
        }
        for text in texts
    ]
    # Gemini reports no token count: Tollgate estimates 4 characters a token.
    assert response.usage.prompt_tokens == 3 + 3
    assert gateway_of(response)["routing"]["finalProvider"] == "google"


def test_a_chat_model_is_400(stack: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as rejected:
        client(stack).embeddings.create(model="openai/gpt-4o", input="hello")

    body = rejected.value.body
    assert isinstance(body, dict) and body["param"] == "model"
    assert "cannot create embeddings" in body["message"]


def test_an_unknown_model_is_404(stack: Stack) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client(stack).embeddings.create(model="openai/no-such-embedder", input="hello")

    assert isinstance(missing.value.body, dict) and missing.value.body["type"] == "model_not_found"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": OPENAI_SMALL}, "input"),
        ({"model": OPENAI_SMALL, "input": []}, "input"),
        ({"model": OPENAI_SMALL, "input": ""}, "input"),
        ({"model": OPENAI_SMALL, "input": ["ok", 3]}, "input"),
        ({"model": OPENAI_SMALL, "input": "x", "encoding_format": "int8"}, "encoding_format"),
        ({"model": OPENAI_SMALL, "input": "x", "dimensions": 0}, "dimensions"),
        ({"input": "x"}, "model"),
    ],
)
def test_bad_bodies_are_400_with_param(
    stack: Stack, fresh_upstream: Upstream, body: dict[str, Any], param: str
) -> None:
    reply = raw_post(stack, body)

    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert fresh_upstream.requests() == []


def test_unknown_fields_are_tolerated(stack: Stack, fresh_upstream: Upstream) -> None:
    reply = raw_post(stack, {"model": OPENAI_SMALL, "input": "x", "some_future_field": True})

    assert reply.status_code == 200, reply.text


def test_failover_from_openai_to_gemini(
    stack: Stack, fresh_upstream: Upstream, fresh_gemini: Upstream
) -> None:
    fresh_upstream.script(status=503)

    response = client(stack).embeddings.create(
        model=EMBEDDING_MODEL,
        input="fail over",
        encoding_format="float",
        extra_body={"providerOptions": {"gateway": {"order": ["openai", "google"]}}},
    )

    assert response.model == EMBEDDING_MODEL
    assert response.data[0].embedding == fake_vector("fail over", 3072)
    routing = gateway_of(response)["routing"]
    assert routing["resolvedProvider"] == "openai" and routing["finalProvider"] == "google"
    attempts = [(a["provider"], a["success"], a["statusCode"]) for a in routing["attempts"]]
    assert attempts == [("openai", False, 503), ("google", True, 200)]
    assert len(bodies(fresh_upstream, "/embeddings")) == 1
    assert len(bodies(fresh_gemini, ":batchEmbedContents")) == 1
    # Priced at the provider that served: Google's list price.
    tokens = response.usage.prompt_tokens
    expected = tokens * Decimal(EMBEDDING_PRICES["google"]["input"])
    assert Decimal(gateway_of(response)["cost"]) == expected


def test_only_restricts_the_embedding_providers(
    stack: Stack, fresh_upstream: Upstream, fresh_gemini: Upstream
) -> None:
    response = client(stack).embeddings.create(
        model=EMBEDDING_MODEL,
        input="only google",
        extra_body={"providerOptions": {"gateway": {"only": ["google"]}}},
    )

    assert gateway_of(response)["routing"]["finalProvider"] == "google"
    assert bodies(fresh_upstream, "/embeddings") == []


def test_a_provider_400_is_passed_through_without_failover(
    stack: Stack, fresh_upstream: Upstream, fresh_gemini: Upstream
) -> None:
    fresh_upstream.script(status=400, error={"message": "This model does not support it."})

    with pytest.raises(openai.BadRequestError) as rejected:
        client(stack).embeddings.create(
            model=EMBEDDING_MODEL,
            input="no failover",
            extra_body={"providerOptions": {"gateway": {"order": ["openai", "google"]}}},
        )

    assert isinstance(rejected.value.body, dict)
    assert rejected.value.body["message"] == "This model does not support it."
    assert bodies(fresh_gemini, ":batchEmbedContents") == []


def test_usage_reaches_billing(stack: Stack, fresh_upstream: Upstream) -> None:
    response = client(stack).embeddings.create(model=OPENAI_SMALL, input=["bill these", "words"])
    generation_id = gateway_of(response)["generationId"]

    record = eventually(lambda: generation(stack, generation_id))

    assert record is not None, "billing never recorded the embedding request"
    assert record["model"] == OPENAI_SMALL and record["provider_name"] == "openai"
    assert record["native_tokens_prompt"] == response.usage.prompt_tokens == 3
    assert record["native_tokens_completion"] == 0
    assert record["streamed"] is False
    assert record["total_cost"] == pytest.approx(3 * 0.00000002, rel=1e-9)

    def request_row() -> dict[str, Any] | None:
        reply = httpx.get(
            f"{stack.base_url}/requests",
            headers={"authorization": f"Bearer {stack.bootstrap_key()}"},
        )
        reply.raise_for_status()
        rows = [r for r in reply.json()["data"] if r["generationId"] == generation_id]
        return rows[0] if rows else None

    row = eventually(request_row)
    assert row is not None, "activity never recorded the embedding request"
    assert (row["inputTokens"], row["outputTokens"]) == (3, 0)
    assert row["provider"] == "openai" and row["streamed"] is False


def test_the_largest_batch_comes_back_whole(stack: Stack, fresh_upstream: Upstream) -> None:
    """2048 inputs (OpenAI's limit) of 1024 dimensions: 16 MB of vectors between router and
    edge, well past gRPC's default 4 MB message limit."""
    texts = [f"input {i}" for i in range(2048)]

    response = client(stack).embeddings.create(
        model="openai/text-embedding-3-large", input=texts, dimensions=1024
    )

    assert len(response.data) == 2048
    assert response.data[-1].index == 2047
    assert response.data[-1].embedding == fake_vector("input 2047", 1024)
    assert response.usage.prompt_tokens == 2 * 2048
