"""The embedding adapters: request bodies and responses against golden fixtures shaped like the
OpenAI and Gemini API references, base64 decoding, usage (reported or estimated), errors. Each
adapter against the fake provider that speaks its API: ``test_router_adapters_over_http.py``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tollgate_router.providers import Adapters, EmbeddingCall, ProviderError
from tollgate_router.providers import gemini_embeddings as gemini
from tollgate_router.providers import openai_embeddings as openai
from tollgate_router.providers.http_client import HttpClient

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def call(*inputs: str | tuple[int, ...], **kwargs: object) -> EmbeddingCall:
    fields: dict[str, object] = {
        "base_url": "http://upstream.test/v1",
        "api_key": "sk-secret",
        "provider_model_id": "text-embedding-3-small",
        "inputs": inputs,
    }
    fields.update(kwargs)
    return EmbeddingCall(**fields)  # type: ignore[arg-type]


# -- OpenAI ---------------------------------------------------------------------------------------


def test_openai_request_matches_the_golden_body() -> None:
    texts = ("The food was delicious", "and the waiter...")

    body = openai.request_body(call(*texts, dimensions=256, user="user-1234"))

    assert body == json.loads(fixture("openai_embeddings_request.json"))


def test_openai_single_text_goes_as_a_string_and_tokens_as_arrays() -> None:
    assert openai.request_body(call("hi"))["input"] == "hi"
    assert openai.request_body(call((1, 2), (3,)))["input"] == [[1, 2], [3]]
    body = openai.request_body(call("hi"))
    assert "dimensions" not in body and "user" not in body
    assert body["encoding_format"] == "float"


def test_openai_response_is_ordered_by_index() -> None:
    result = openai.parse_response(fixture("openai_embeddings_response.json"), call("a", "b"))

    assert result.vectors == (
        (-0.0069292835, -0.005336422, 0.024047505),
        (0.0023064255, -0.009327292, 0.015797347),
    )
    assert result.input_tokens == 8 and not result.estimated


def test_openai_base64_answer_is_decoded() -> None:
    result = openai.parse_response(fixture("openai_embeddings_base64_response.json"), call("a b"))

    assert result.vectors == ((0.5, -0.25, 0.125),)
    assert result.input_tokens == 2


def test_openai_answer_without_usage_is_estimated() -> None:
    raw = b'{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1.0]}]}'

    result = openai.parse_response(raw, call("twelve chars"))

    assert result.input_tokens == 3 and result.estimated


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"object":"list"}',
        b'{"data":[{"index":0,"embedding":"@@not base64@@"}]}',
        b'{"data":[{"index":0,"embedding":[1.0]},{"index":1,"embedding":[2.0]}]}',
    ],
)
def test_openai_unusable_answers_are_provider_errors(raw: bytes) -> None:
    with pytest.raises(ProviderError) as failed:
        openai.parse_response(raw, call("one input"))

    assert failed.value.status in (0, 502)


# -- Gemini ---------------------------------------------------------------------------------------


def test_gemini_request_matches_the_golden_body() -> None:
    texts = ("What is the meaning of life?", "How does the brain work?")
    gemini_call = call(*texts, provider_model_id="models/gemini-embedding-001", dimensions=3)

    body = gemini.request_body(gemini_call, gemini.texts_of(gemini_call))

    assert body == json.loads(fixture("gemini_embeddings_request.json"))
    assert gemini.request_url(gemini_call) == (
        "http://upstream.test/v1/models/gemini-embedding-001:batchEmbedContents"
    )


def test_gemini_response_and_estimated_usage() -> None:
    texts = ("What is the meaning of life?", "How does the brain work?")

    result = gemini.parse_response(fixture("gemini_embeddings_response.json"), texts)

    assert result.vectors == (
        (0.0093252, -0.0206742, 0.0100523),
        (-0.0213011, 0.0091221, -0.0012306),
    )
    # No token count in the Gemini API's answer: 4 characters a token, rounded up per input.
    assert result.input_tokens == 7 + 6 and result.estimated


def test_gemini_statistics_token_counts_are_used_when_present() -> None:
    raw = b'{"embeddings":[{"values":[1.0],"statistics":{"tokenCount":5}}]}'

    result = gemini.parse_response(raw, ("some text",))

    assert result.input_tokens == 5 and not result.estimated


def test_gemini_refuses_token_arrays_before_any_call() -> None:
    with pytest.raises(ProviderError) as refused:
        gemini.texts_of(call((1, 2, 3)))

    assert refused.value.status == 400 and refused.value.param == "input"


def test_gemini_bad_key_error_is_a_credential_failure() -> None:
    error = gemini.error_from_response(400, fixture("gemini_error_bad_key.json"))

    assert error.status == 401


# -- the seam -------------------------------------------------------------------------------------


def test_embedding_adapters_are_chosen_by_wire_protocol() -> None:
    first, second = object(), object()
    adapters = Adapters(openai_chat=object(), openai_embeddings=first, google_embeddings=second)  # type: ignore[arg-type]

    assert adapters.embeddings_for("openai") is first
    assert adapters.embeddings_for("groq") is first
    assert adapters.embeddings_for("google") is second
    assert adapters.embeddings_for("anthropic") is None
    assert adapters.embeddings_for("voyage") is None
    assert adapters.embeddings_for("my-server", "openai-chat") is first


# -- without an answer -----------------------------------------------------------------------------


@pytest.fixture
async def session() -> AsyncIterator[HttpClient]:
    async with HttpClient() as opened:
        yield opened


async def test_no_answer_is_a_status_0_error(session: HttpClient) -> None:
    with pytest.raises(ProviderError) as failed:
        await openai.OpenAIEmbeddingsAdapter(session).embed(
            call("x", base_url="http://127.0.0.1:9/v1")
        )

    assert failed.value.status == 0
