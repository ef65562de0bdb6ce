"""The chat completions endpoint as the official openai SDK sees it (fake router behind)."""

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


async def test_non_streaming_completion(client: openai.AsyncOpenAI, edge: Edge) -> None:
    completion = await client.chat.completions.create(model="openai/gpt-4o", messages=USER)

    assert completion.id == edge.gen_id
    assert completion.object == "chat.completion"
    assert completion.created == 1_700_000_000
    assert completion.model == "openai/gpt-4o"
    assert completion.system_fingerprint == "fp_test"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello, world"
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (12, 3)
    assert completion.usage.total_tokens == 15
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 4
    extra: dict[str, Any] = choice.message.model_extra or {}
    gateway = extra["provider_metadata"]["gateway"]
    assert gateway["generationId"] == edge.gen_id
    assert gateway["cost"] == "0.0000600" and gateway["marketCost"] == "0.00006"
    routing = gateway["routing"]
    assert routing["finalProvider"] == "openai"
    assert routing["fallbacksAvailable"] == ["azure"]
    assert routing["attempts"] == [
        {
            "provider": "openai",
            "providerApiModelId": "gpt-4o",
            "credentialType": "system",
            "success": True,
            "startTime": 1_700_000_000_005,
            "endTime": 1_700_000_001_250,
            "statusCode": 200,
            "providerResponseId": "chatcmpl-1",
        }
    ]


async def test_a_whole_answer_is_one_unary_call_and_a_stream_a_stream(
    client: openai.AsyncOpenAI, edge: Edge
) -> None:
    await client.chat.completions.create(model="openai/gpt-4o", messages=USER)
    stream = await client.chat.completions.create(model="openai/gpt-4o", messages=USER, stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert edge.fakes.router.methods == ["Generate", "StreamGenerate"]


async def test_a_router_without_the_unary_call_still_answers_whole(
    client: openai.AsyncOpenAI, edge: Edge
) -> None:
    """During a rolling upgrade the edge may meet a router of an earlier release."""
    edge.fakes.router.without_generate = True

    completion = await client.chat.completions.create(model="openai/gpt-4o", messages=USER)

    assert completion.choices[0].message.content == "Hello, world"
    assert completion.usage is not None and completion.usage.total_tokens == 15
    assert edge.fakes.router.methods == ["StreamGenerate"]


async def test_the_router_gets_a_typed_request(client: openai.AsyncOpenAI, edge: Edge) -> None:
    await client.chat.completions.create(
        model="openai/gpt-4o",
        messages=[
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://x.test/a.png", "detail": "low"},
                    },
                    {
                        "type": "file",
                        "file": {
                            "file_data": "data:application/pdf;base64,JVBE",
                            "filename": "a.pdf",
                        },
                    },
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "f", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "42"},
        ],
        temperature=0.5,
        max_tokens=100,
        top_p=1,
        stop="END",
        seed=7,
        user="end-user-1",
        extra_headers={
            "x-title": "My App",
            "http-referer": "https://app.test",
            "x-request-id": "req-1",
        },
        extra_body={
            "providerOptions": {
                "gateway": {
                    "order": ["azure", "openai"],
                    "only": ["azure", "openai"],
                    "models": ["anthropic/claude-sonnet-4"],
                }
            },
            "models": ["google/gemini-2.5-pro"],
        },
    )

    [sent] = edge.fakes.router.requests
    assert sent.caller.team_id == "team_1" and sent.caller.project_id == "prj_1"
    assert sent.caller.key_id == "key_1" and sent.caller.user_id == "user_1"
    assert sent.caller.request_id == "req-1"
    assert (sent.caller.app_title, sent.caller.app_referer) == ("My App", "https://app.test")
    assert edge.fakes.router.metadata[0]["x-request-id"] == "req-1"
    assert sent.model == "openai/gpt-4o" and sent.stream is False
    system, user, assistant, tool = sent.messages
    assert system.WhichOneof("content") == "text" and system.text == "Be brief."
    text, image, file = user.parts.parts
    assert text.text == "What is this?"
    assert (image.image_url.url, image.image_url.detail) == ("https://x.test/a.png", "low")
    assert file.file.media_type == "application/pdf" and file.file.filename == "a.pdf"
    assert assistant.WhichOneof("content") is None
    assert assistant.tool_calls[0].name == "f" and assistant.tool_calls[0].arguments == "{}"
    assert tool.tool_call_id == "call_1" and tool.text == "42"
    params = sent.params
    assert params.temperature == 0.5 and params.max_tokens == 100 and params.top_p == 1.0
    assert not params.HasField("frequency_penalty")
    assert list(params.stop) == ["END"] and params.seed == 7 and params.user == "end-user-1"
    assert list(sent.routing.order) == ["azure", "openai"]
    assert list(sent.routing.only) == ["azure", "openai"]
    assert list(sent.routing.models) == ["anthropic/claude-sonnet-4", "google/gemini-2.5-pro"]


async def test_streaming_completion_with_usage(client: openai.AsyncOpenAI, edge: Edge) -> None:
    stream = await client.chat.completions.create(
        model="openai/gpt-4o",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]

    assert {c.id for c in chunks} == {edge.gen_id}
    assert {c.created for c in chunks} == {1_700_000_000}
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello, world"
    finish = chunks[-2]
    assert finish.choices[0].finish_reason == "stop"
    extra: dict[str, Any] = finish.choices[0].delta.model_extra or {}
    assert extra["provider_metadata"]["gateway"]["generationId"] == edge.gen_id
    assert [c.choices[0].finish_reason for c in chunks[:-2]] == [None, None, None]
    usage = chunks[-1]
    assert usage.choices == []
    assert usage.usage is not None and usage.usage.total_tokens == 15
    assert all(c.usage is None for c in chunks[:-1])


async def test_streaming_without_include_usage_has_no_usage_chunk(
    client: openai.AsyncOpenAI,
) -> None:
    stream = await client.chat.completions.create(model="openai/gpt-4o", messages=USER, stream=True)
    chunks = [chunk async for chunk in stream]
    assert all(c.choices for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_an_error_after_the_stream_started_raises(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="test/error-after-start", messages=USER, stream=True
    )
    seen: list[str] = []

    async def drain() -> None:
        async for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")

    with pytest.raises(openai.APIError) as failure:
        await drain()
    assert "".join(seen) == "Hello, world"
    assert failure.value.message == "the provider broke off"
    assert isinstance(failure.value.body, dict) and failure.value.body["type"] == "api_error"


@pytest.mark.parametrize(
    ("model", "error", "status", "type_"),
    [
        ("test/no-provider", openai.InternalServerError, 503, "service_unavailable"),
        ("test/provider-error", openai.InternalServerError, 502, "api_error"),
        ("test/unknown", openai.NotFoundError, 404, "model_not_found"),
        ("test/broke", openai.APIStatusError, 402, "insufficient_funds"),
        ("test/provider-429", openai.RateLimitError, 429, "rate_limit_exceeded"),
        ("test/error-before-start", openai.InternalServerError, 502, "api_error"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
async def test_failures_before_start_are_http_errors(
    client: openai.AsyncOpenAI,
    model: str,
    error: type[openai.APIStatusError],
    status: int,
    type_: str,
    stream: bool,
) -> None:
    with pytest.raises(error) as failure:
        await client.chat.completions.create(model=model, messages=USER, stream=stream)
    assert failure.value.status_code == status
    assert isinstance(failure.value.body, dict) and failure.value.body["type"] == type_
    if status in (429, 503):
        assert failure.value.response.headers["retry-after"] == "1"


async def test_a_bad_param_is_400_naming_it(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as failure:
        await client.chat.completions.create(
            model="openai/gpt-4o",
            messages=USER,
            temperature="hot",  # type: ignore[arg-type]
        )
    assert failure.value.param == "temperature"
    assert failure.value.type == "invalid_request_error"


async def test_a_viewer_may_not_call_inference(edge: Edge) -> None:
    async with openai.AsyncOpenAI(
        base_url=f"{edge.url}/v1",
        api_key="x",
        default_headers={**edge.headers, "x-tollgate-role": "viewer"},
        max_retries=0,
    ) as viewer:
        with pytest.raises(openai.PermissionDeniedError) as failure:
            await viewer.chat.completions.create(model="openai/gpt-4o", messages=USER)
        assert failure.value.type == "forbidden"
        # Reading the catalog is fine.
        assert [m.id async for m in viewer.models.list()] == ["openai/gpt-4o", "acme/tiny"]
    assert edge.fakes.router.requests == []


async def test_without_identity_headers_is_401(edge: Edge) -> None:
    async with openai.AsyncOpenAI(base_url=f"{edge.url}/v1", api_key="x", max_retries=0) as anon:
        with pytest.raises(openai.AuthenticationError) as failure:
            await anon.chat.completions.create(model="openai/gpt-4o", messages=USER)
    assert failure.value.type == "authentication_error"
