"""``Idempotency-Key`` through the whole suite (Envoy, the edge, the router, billing), driven
with the official OpenAI SDK: a retry with the same key and body gets the first answer again
(same id, same content, same usage; a stream as the same stream) with ``Idempotent-Replayed:
true``, the fake provider is called once and billing charges once; another body is a 422;
concurrent repeats make one provider call; a repeat past the wait for a first request still
running is a 409; a provider failure keeps nothing; a malformed key is a 400; once the key
expired a repeat runs again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.api import generation
from tests.support.billing import CATALOG, PRICEY, billing_suite, expected_cost, settled
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

EMBEDDING = "openai/text-embedding-3-small"
REPLAYED = "Idempotent-Replayed"
HELLO = [{"role": "user", "content": "say hello"}]


@pytest.fixture(scope="module")
def suite(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # A repeat waits 6 s for the first request (10 s by default) before it is told 409.
    env = {"TOLLGATE_ROUTER_IDEMPOTENCY_WAIT_SECONDS": "6"}
    with billing_suite(upstream, tmp_path_factory.mktemp("idempotency"), CATALOG, env) as running:
        yield running


def api(stack: Stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0)


def keyed(key: str) -> dict[str, Any]:
    return {"extra_headers": {"Idempotency-Key": key}}


def chats(upstream: Upstream) -> int:
    return sum(1 for r in upstream.requests() if r["path"] == "/v1/chat/completions")


def test_a_retry_gets_the_first_answer_without_a_provider_call(
    suite: Stack, fresh_upstream: Upstream
) -> None:
    first = api(suite).chat.completions.with_raw_response.create(
        model=PRICEY, messages=HELLO, **keyed("retry-plain-1")
    )
    again = api(suite).chat.completions.with_raw_response.create(
        model=PRICEY, messages=HELLO, **keyed("retry-plain-1")
    )
    assert REPLAYED not in first.headers
    assert again.headers[REPLAYED] == "true"
    answer, replay = first.parse(), again.parse()
    assert replay.id == answer.id
    assert replay.choices[0].message.content == answer.choices[0].message.content
    assert replay.usage == answer.usage
    assert chats(fresh_upstream) == 1
    record = eventually(lambda: generation(suite, answer.id))
    assert Decimal(str(record["total_cost"])) == expected_cost(answer.usage)


def test_a_stream_is_replayed_as_the_same_stream(suite: Stack, fresh_upstream: Upstream) -> None:
    def stream() -> tuple[list[dict[str, Any]], str | None]:
        raw = api(suite).chat.completions.with_raw_response.create(
            model=PRICEY,
            messages=[{"role": "user", "content": "one two three four"}],
            stream=True,
            stream_options={"include_usage": True},
            **keyed("retry-stream-1"),
        )
        return [chunk.model_dump() for chunk in raw.parse()], raw.headers.get(REPLAYED)

    chunks, replayed = stream()
    again, replayed_again = stream()
    assert (replayed, replayed_again) == (None, "true")
    assert again == chunks
    assert "".join(c["choices"][0]["delta"]["content"] or "" for c in chunks if c["choices"])
    assert chunks[-1]["usage"] is not None
    assert chats(fresh_upstream) == 1


def test_the_same_key_with_another_body_is_a_422(suite: Stack, fresh_upstream: Upstream) -> None:
    api(suite).chat.completions.create(model=PRICEY, messages=HELLO, **keyed("retry-reused"))
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        api(suite).chat.completions.create(
            model=PRICEY, messages=[{"role": "user", "content": "other"}], **keyed("retry-reused")
        )
    error = refused.value.body
    assert isinstance(error, dict)
    assert error["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in error["message"]
    assert chats(fresh_upstream) == 1


def test_keys_belong_to_the_body_not_its_spelling(suite: Stack, fresh_upstream: Upstream) -> None:
    """The same request with its fields in another order is the same request."""
    client = api(suite)
    first = client.chat.completions.create(
        model=PRICEY, messages=HELLO, temperature=0.5, **keyed("retry-order")
    )
    again = client.chat.completions.create(
        temperature=0.5, messages=HELLO, model=PRICEY, **keyed("retry-order")
    )
    assert again.id == first.id
    assert chats(fresh_upstream) == 1


def test_concurrent_repeats_make_one_provider_call(suite: Stack, fresh_upstream: Upstream) -> None:
    fresh_upstream.script(latency_ms=1500)

    async def repeats() -> list[Any]:
        client = openai.AsyncOpenAI(
            base_url=suite.base_url, api_key=suite.bootstrap_key(), max_retries=0, timeout=60
        )
        async with client:
            return await asyncio.gather(
                *(
                    client.chat.completions.create(
                        model=PRICEY, messages=HELLO, **keyed("retry-concurrent")
                    )
                    for _ in range(4)
                )
            )

    answers = asyncio.run(repeats())
    assert len({answer.id for answer in answers}) == 1
    assert chats(fresh_upstream) == 1


def test_a_repeat_while_the_first_runs_on_is_a_409(suite: Stack, fresh_upstream: Upstream) -> None:
    fresh_upstream.script(latency_ms=20_000)  # far beyond the repeat's 6 s wait

    async def first_and_repeat() -> tuple[openai.ConflictError, Any]:
        client = openai.AsyncOpenAI(
            base_url=suite.base_url, api_key=suite.bootstrap_key(), max_retries=0, timeout=90
        )
        async with client:
            first = asyncio.create_task(
                client.chat.completions.create(
                    model=PRICEY, messages=HELLO, **keyed("retry-in-use")
                )
            )
            while not await asyncio.to_thread(chats, fresh_upstream):
                await asyncio.sleep(0.1)  # the first request has reached the provider
            with pytest.raises(openai.ConflictError) as refused:
                await client.chat.completions.create(
                    model=PRICEY, messages=HELLO, **keyed("retry-in-use")
                )
            return refused.value, await first

    refused, answer = asyncio.run(first_and_repeat())
    assert isinstance(refused.body, dict)
    assert refused.body["code"] == "idempotency_key_in_use"
    again = api(suite).chat.completions.create(
        model=PRICEY, messages=HELLO, **keyed("retry-in-use")
    )
    assert again.id == answer.id
    assert chats(fresh_upstream) == 1


def test_a_provider_failure_keeps_nothing(suite: Stack, fresh_upstream: Upstream) -> None:
    fresh_upstream.script(status=500, times=5)  # every attempt of the first request fails
    with pytest.raises(openai.APIStatusError):
        api(suite).chat.completions.create(
            model=PRICEY, messages=HELLO, **keyed("retry-after-failure")
        )
    failed_calls = chats(fresh_upstream)
    fresh_upstream.reset()
    served = api(suite).chat.completions.with_raw_response.create(
        model=PRICEY, messages=HELLO, **keyed("retry-after-failure")
    )
    assert failed_calls >= 1
    assert REPLAYED not in served.headers
    assert served.parse().choices[0].message.content
    assert chats(fresh_upstream) == 1


@pytest.mark.parametrize("bad", ["x" * 256, "has space", "tab\tkey"])
def test_a_malformed_key_is_a_400(suite: Stack, fresh_upstream: Upstream, bad: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        api(suite).chat.completions.create(model=PRICEY, messages=HELLO, **keyed(bad))
    assert "Idempotency-Key" in str(refused.value)
    assert chats(fresh_upstream) == 0


def test_embeddings_are_replayed_too(suite: Stack, fresh_upstream: Upstream) -> None:
    def embed() -> Any:
        return api(suite).embeddings.with_raw_response.create(
            model=EMBEDDING,
            input=["alpha beta", "gamma"],
            encoding_format="float",
            **keyed("retry-embed"),
        )

    first, again = embed(), embed()
    assert again.headers[REPLAYED] == "true"
    assert again.parse().model_dump() == first.parse().model_dump()
    embeds = [r for r in fresh_upstream.requests() if r["path"] == "/v1/embeddings"]
    assert len(embeds) == 1


@pytest.mark.parametrize("streaming", ["false", "true"])
def test_the_ai_sdk_language_model_replays_too(
    suite: Stack, fresh_upstream: Upstream, streaming: str
) -> None:
    def call() -> httpx.Response:
        return httpx.post(
            f"{suite.base_url}/ai/language-model",
            json={"prompt": [{"role": "user", "content": [{"type": "text", "text": "hi sdk"}]}]},
            headers={
                "authorization": f"Bearer {suite.bootstrap_key()}",
                "ai-gateway-protocol-version": "0.0.1",
                "ai-language-model-specification-version": "2",
                "ai-language-model-id": PRICEY,
                "ai-language-model-streaming": streaming,
                "Idempotency-Key": f"retry-aisdk-{streaming}",
            },
            timeout=30,
        )

    first, again = call(), call()
    assert first.status_code == again.status_code == 200
    assert again.headers[REPLAYED] == "true"
    assert again.content == first.content
    assert chats(fresh_upstream) == 1


@pytest.fixture
def short_lived(upstream: Upstream, tmp_path: Path) -> Iterator[Stack]:
    env = {"TOLLGATE_ROUTER_IDEMPOTENCY_TTL_SECONDS": "8"}
    with billing_suite(upstream, tmp_path, CATALOG, env) as running:
        yield running


def test_after_expiry_a_repeat_runs_again_and_each_run_is_charged_once(
    short_lived: Stack, upstream: Upstream
) -> None:
    client = api(short_lived)
    first = client.chat.completions.create(model=PRICEY, messages=HELLO, **keyed("retry-expiry"))
    replay = client.chat.completions.create(model=PRICEY, messages=HELLO, **keyed("retry-expiry"))
    assert replay.id == first.id

    def rerun() -> Any:
        answer = client.chat.completions.create(
            model=PRICEY, messages=HELLO, **keyed("retry-expiry")
        )
        return answer if answer.id != first.id else None

    second = eventually(rerun, timeout=120)
    assert chats(upstream) == 2
    assert settled(short_lived, expected_cost(first.usage) + expected_cost(second.usage))
