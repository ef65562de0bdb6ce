"""What a user of the OpenAI SDK sees through the whole suite (Envoy → edge → router → fake
provider), and that the usage of each generation reaches billing and activity over NATS."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.api import client, generation
from tests.support.polling import eventually
from tests.support.upstreams import UPSTREAM_KEY, Upstream


def test_non_streaming_completion_matches_the_upstream(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    completion = client(stack).chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello there gateway"},
        ],
    )

    [sent] = fresh_upstream.requests()
    body = sent["body"]
    assert isinstance(body, dict)
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"][-1] == {"role": "user", "content": "hello there gateway"}
    assert sent["headers"].get("authorization") != f"Bearer {stack.bootstrap_key()}"

    assert completion.id.startswith("gen_")
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "Echo: hello there gateway"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (
        completion.usage.total_tokens
        == completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0


def test_streaming_completion_is_framed_like_openai(stack: Stack, fresh_upstream: Upstream) -> None:
    stream = client(stack).chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "stream these five words please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    ids = {chunk.id for chunk in chunks}
    assert len(ids) == 1 and ids.pop().startswith("gen_")
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: stream these five words please"
    finishing = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in finishing] == ["stop"]
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None and usage_chunk.usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])

    [sent] = fresh_upstream.requests()
    assert sent["body"]["stream"] is True
    assert sent["body"]["stream_options"] == {"include_usage": True}


def test_stream_without_include_usage_still_asks_upstream_for_usage(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    chunks = list(
        client(stack).chat.completions.create(
            model="openai/gpt-4o-mini",
            messages=[{"role": "user", "content": "count me"}],
            stream=True,
        )
    )
    assert all(c.choices for c in chunks), "no usage chunk unless the client asks for it"
    assert all(c.usage is None for c in chunks)
    [sent] = fresh_upstream.requests()
    assert sent["body"]["stream_options"] == {"include_usage": True}


def test_a_wrong_or_missing_key_is_401_before_the_edge(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    with pytest.raises(openai.AuthenticationError) as wrong:
        client(stack, key="tg_not_a_real_key").chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert wrong.value.status_code == 401
    assert isinstance(wrong.value.body, dict) and wrong.value.body["type"] == "authentication_error"

    reply = httpx.post(
        f"{stack.base_url}/chat/completions", json={"model": "openai/gpt-4o", "messages": []}
    )
    assert reply.status_code == 401
    assert reply.json()["error"]["type"] == "authentication_error"
    assert fresh_upstream.requests() == []


def test_client_cannot_forge_identity_headers(stack: Stack, fresh_upstream: Upstream) -> None:
    forged = {"x-tollgate-team-id": "team_forged", "x-tollgate-role": "owner"}
    reply = httpx.get(f"{stack.base_url}/models", headers=forged)
    assert reply.status_code == 401

    completion = (
        client(stack)
        .with_options(default_headers=forged)
        .chat.completions.create(
            model="openai/gpt-4o-mini",
            messages=[{"role": "user", "content": "whose request is this"}],
        )
    )
    # The generation belongs to the key's team: its owner can look it up.
    record = eventually(lambda: generation(stack, completion.id))
    assert record is not None and record["id"] == completion.id


def test_usage_reaches_billing_and_activity(stack: Stack, fresh_upstream: Upstream) -> None:
    completion = client(stack).chat.completions.create(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "bill me exactly"}],
        extra_headers={"x-title": "Suite Test", "http-referer": "https://example.test/app"},
    )
    assert completion.usage is not None

    record = eventually(lambda: generation(stack, completion.id))
    assert record is not None, "billing never recorded the generation"
    assert record["model"] == "openai/gpt-4o"
    assert record["provider_name"] == "openai"
    assert record["native_tokens_prompt"] == completion.usage.prompt_tokens
    assert record["native_tokens_completion"] == completion.usage.completion_tokens
    assert record["streamed"] is False and record["is_byok"] is False
    # gpt-4o list price: $2.50 / 1M input, $10.00 / 1M output.
    expected = completion.usage.prompt_tokens * 2.5e-6 + completion.usage.completion_tokens * 10e-6
    assert record["total_cost"] == pytest.approx(expected, rel=1e-9)

    def request_row() -> dict[str, Any] | None:
        reply = httpx.get(
            f"{stack.base_url}/requests",
            headers={"authorization": f"Bearer {stack.bootstrap_key()}"},
        )
        reply.raise_for_status()
        rows = [r for r in reply.json()["data"] if r["generationId"] == completion.id]
        return rows[0] if rows else None

    row = eventually(request_row)
    assert row is not None, "activity never recorded the request"
    assert row["inputTokens"] == completion.usage.prompt_tokens
    assert row["outputTokens"] == completion.usage.completion_tokens
    assert row["appTitle"] == "Suite Test" and row["appReferer"] == "https://example.test/app"
    assert row["provider"] == "openai" and row["streamed"] is False


def test_models_are_listed_and_retrievable(stack: Stack) -> None:
    api = client(stack)
    ids = {model.id for model in api.models.list()}
    assert {"openai/gpt-4o", "openai/gpt-5", "openai/gpt-4.1-mini", "openai/gpt-5-nano"} <= ids
    model = api.models.retrieve("openai/gpt-4o")  # the SDK sends openai%2Fgpt-4o
    assert model.id == "openai/gpt-4o"
    with pytest.raises(openai.NotFoundError) as missing:
        api.models.retrieve("openai/no-such-model")
    assert isinstance(missing.value.body, dict) and missing.value.body["type"] == "model_not_found"


def test_bad_requests_are_400_with_param(stack: Stack, fresh_upstream: Upstream) -> None:
    headers = {
        "authorization": f"Bearer {stack.bootstrap_key()}",
        "content-type": "application/json",
    }
    url = f"{stack.base_url}/chat/completions"
    malformed = httpx.post(url, content=b"{not json", headers=headers)
    assert malformed.status_code == 400
    assert malformed.json()["error"]["type"] == "invalid_request_error"

    no_messages = httpx.post(url, json={"model": "openai/gpt-4o"}, headers=headers)
    assert no_messages.status_code == 400 and no_messages.json()["error"]["param"] == "messages"

    no_model = httpx.post(
        url, json={"messages": [{"role": "user", "content": "x"}]}, headers=headers
    )
    assert no_model.status_code == 400 and no_model.json()["error"]["param"] == "model"

    with pytest.raises(openai.NotFoundError) as unknown:
        client(stack).chat.completions.create(
            model="acme/unknown", messages=[{"role": "user", "content": "x"}]
        )
    assert isinstance(unknown.value.body, dict) and unknown.value.body["type"] == "model_not_found"
    assert fresh_upstream.requests() == []


def test_a_failing_provider_is_a_5xx_in_the_openai_envelope(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(status=503, times=1)
    with pytest.raises(openai.InternalServerError) as failure:
        client(stack).chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "fail please"}]
        )
    assert failure.value.status_code in (502, 503)
    assert isinstance(failure.value.body, dict) and failure.value.body["message"]


def test_an_oversized_body_is_413_in_the_openai_envelope(stack: Stack) -> None:
    huge = "x" * (33 * 1024 * 1024)
    reply = httpx.post(
        f"{stack.base_url}/chat/completions",
        json={"model": "openai/gpt-4o", "messages": [{"role": "user", "content": huge}]},
        headers={"authorization": f"Bearer {stack.bootstrap_key()}"},
    )
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "request_too_large"


def test_health_endpoints_need_no_key(stack: Stack) -> None:
    root = stack.base_url.removesuffix("/v1")
    assert httpx.get(f"{root}/healthz").status_code == 200
    ready = httpx.get(f"{root}/readyz")
    assert ready.status_code == 200


def test_upstream_sees_the_system_key_never_the_clients(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    client(stack).chat.completions.create(
        model="openai/gpt-5-nano", messages=[{"role": "user", "content": "k"}]
    )
    [sent] = fresh_upstream.requests()
    assert sent["body"]["model"] == "gpt-5-nano"
    # The fake only answers requests carrying its key; seeing one recorded proves the router sent it.
    assert UPSTREAM_KEY not in str(sent["headers"])
