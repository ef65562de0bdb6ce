"""The edge over raw HTTP: exact SSE bytes, catalog, lookups, health and the error envelope."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

Edge = Any

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _chunk(edge: Edge, choices: list[Any], *, usage: Any = ..., **extra: Any) -> bytes:
    chunk: dict[str, Any] = {
        "id": edge.gen_id,
        "object": "chat.completion.chunk",
        "created": edge.created,
        "model": "openai/gpt-4o",
        "system_fingerprint": "fp_test",
        "choices": choices,
    }
    if usage is not ...:
        chunk["usage"] = usage
    return f"data: {_compact(chunk)}\n\n".encode()


def _choice(delta: dict[str, Any], finish_reason: str | None = None) -> list[Any]:
    return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]


async def _post_chat(
    http: aiohttp.ClientSession, edge: Edge, body: Any, **headers: str
) -> aiohttp.ClientResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await http.post(
        f"{edge.url}/v1/chat/completions",
        data=data,
        headers={**edge.headers, "content-type": "application/json", **headers},
    )


async def test_sse_bytes_are_framed_exactly_like_openai(
    edge: Edge, http: aiohttp.ClientSession
) -> None:
    body = {
        "model": "openai/gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    async with await _post_chat(http, edge, body) as reply:
        assert reply.status == 200
        assert reply.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert reply.headers["cache-control"] == "no-cache"
        assert reply.headers["x-accel-buffering"] == "no"
        raw = await reply.read()

    metadata = json.loads(raw.split(b"data: ")[4])["choices"][0]["delta"]["provider_metadata"]
    assert metadata["gateway"]["generationId"] == edge.gen_id
    usage = {
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    expected = b"".join(
        [
            _chunk(edge, _choice({"role": "assistant", "content": ""}), usage=None),
            _chunk(edge, _choice({"content": "Hello"}), usage=None),
            _chunk(edge, _choice({"content": ", world"}), usage=None),
            _chunk(edge, _choice({"provider_metadata": metadata}, "stop"), usage=None),
            _chunk(edge, [], usage=usage),
            b"data: [DONE]\n\n",
        ]
    )
    assert raw == expected


async def test_sse_without_include_usage_has_no_usage_key(
    edge: Edge, http: aiohttp.ClientSession
) -> None:
    body = {
        "model": "openai/gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    async with await _post_chat(http, edge, body) as reply:
        events = (await reply.read()).split(b"\n\n")
    assert events[-2:] == [b"data: [DONE]", b""]
    assert all(b'"usage"' not in event for event in events)
    assert events[0] == _chunk(edge, _choice({"role": "assistant", "content": ""})).rstrip()


@pytest.mark.parametrize(
    ("model", "error"),
    [
        (
            "test/error-after-start",
            {
                "message": "the provider broke off",
                "type": "api_error",
                "param": None,
                "code": "cut",
            },
        ),
        (
            "test/abort-after-start",
            {
                "message": "fake provider_error",
                "type": "api_error",
                "param": None,
                "code": "provider_error",
            },
        ),
        (
            "test/no-finish",
            {
                "message": "the generation ended unexpectedly",
                "type": "api_error",
                "param": None,
                "code": None,
            },
        ),
    ],
)
async def test_an_error_after_start_is_one_error_event_then_done(
    edge: Edge, http: aiohttp.ClientSession, model: str, error: dict[str, Any]
) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with await _post_chat(http, edge, body) as reply:
        assert reply.status == 200
        events = (await reply.read()).split(b"\n\n")
    assert events[-3:] == [
        f"data: {_compact({'error': error})}".encode(),
        b"data: [DONE]",
        b"",
    ]
    assert len(events) == 6  # role, two deltas, error, [DONE], trailing


async def test_an_error_mid_generation_without_stream_is_an_http_error(
    edge: Edge, http: aiohttp.ClientSession
) -> None:
    body = {"model": "test/error-after-start", "messages": [{"role": "user", "content": "hi"}]}
    async with await _post_chat(http, edge, body) as reply:
        assert reply.status == 502
        assert (await reply.json())["error"]["message"] == "the provider broke off"


async def test_a_client_that_goes_away_cancels_the_generation(edge: Edge) -> None:
    body = {"model": "test/slow", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with aiohttp.ClientSession() as http:
        reply = await _post_chat(http, edge, body)
        assert reply.status == 200
        first = await reply.content.readuntil(b"\n\n")
        assert b'"role":"assistant"' in first
        second = await reply.content.readuntil(b"\n\n")
        assert b'"content":"tick"' in second
        reply.close()
    await asyncio.wait_for(edge.fakes.router.cancelled.wait(), timeout=5)


async def test_the_generation_deadline_is_a_504(
    edge_with: Any, http: aiohttp.ClientSession
) -> None:
    async with edge_with(generation_deadline_seconds=0.3) as edge:
        body = {"model": "test/slow-start", "messages": [{"role": "user", "content": "hi"}]}
        async with await _post_chat(http, edge, body) as reply:
            assert reply.status == 504
            error = (await reply.json())["error"]
    assert error == {
        "message": "the request timed out",
        "type": "timeout_error",
        "param": None,
        "code": None,
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "", "messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": 4, "messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "openai/gpt-4o"}, "messages"),
        ({"model": "openai/gpt-4o", "messages": []}, "messages"),
        ({"model": "openai/gpt-4o", "messages": "hi"}, "messages"),
        ({"model": "openai/gpt-4o", "messages": [{"role": "wizard", "content": "x"}]}, "messages"),
        ({"model": "openai/gpt-4o", "messages": [{"role": "user"}]}, "messages"),
        ({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": 3}]}, "messages"),
    ],
)
async def test_invalid_bodies_are_400_with_param(
    edge: Edge, http: aiohttp.ClientSession, body: Any, param: str | None
) -> None:
    async with await _post_chat(http, edge, body) as reply:
        assert reply.status == 400
        error = (await reply.json())["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert set(error) == {"message", "type", "param", "code"}
    assert edge.fakes.router.requests == []


async def test_an_oversized_body_is_413(edge_with: Any, http: aiohttp.ClientSession) -> None:
    async with edge_with(max_body_bytes=1024) as edge:
        body = {"model": "m", "messages": [{"role": "user", "content": "x" * 2048}]}
        async with await _post_chat(http, edge, body) as reply:
            assert reply.status == 413
            assert (await reply.json())["error"]["code"] == "request_too_large"


# --- models ----------------------------------------------------------------------------------


async def test_models_list_and_retrieve(edge: Edge, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{edge.url}/v1/models", headers=edge.headers) as reply:
        listing = await reply.json()
    assert listing["object"] == "list"
    gpt, bare = listing["data"]
    assert gpt == {
        "id": "openai/gpt-4o",
        "object": "model",
        "created": 1_715_558_400,
        "owned_by": "openai",
        "name": "GPT-4o",
        "description": "OpenAI's flagship",
        "context_window": 128_000,
        "max_tokens": 16_384,
        "type": "language",
        "tags": [],
        "pricing": {"input": "0.0000025", "output": "0.00001", "input_cache_read": "0.00000125"},
    }
    assert "pricing" not in bare  # no provider can price it
    for path in ("openai/gpt-4o", "openai%2Fgpt-4o", "openai%2fgpt-4o"):
        async with http.get(f"{edge.url}/v1/models/{path}", headers=edge.headers) as reply:
            assert reply.status == 200, path
            assert await reply.json() == gpt


async def test_an_unknown_model_is_404_model_not_found(
    edge: Edge, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{edge.url}/v1/models/acme%2Fnope", headers=edge.headers) as reply:
        assert reply.status == 404
        assert (await reply.json())["error"]["type"] == "model_not_found"


# --- lookups ---------------------------------------------------------------------------------


async def test_generation_lookup_has_exactly_the_sdk_fields(
    edge: Edge, http: aiohttp.ClientSession
) -> None:
    url = f"{edge.url}/v1/generation?id={edge.gen_id}"
    async with http.get(url, headers=edge.headers) as reply:
        assert reply.status == 200
        raw = await reply.read()
    assert json.loads(raw) == {
        "data": {
            "id": edge.gen_id,
            "total_cost": 0.0004505,
            "upstream_inference_cost": 0.0004505,
            "usage": 0.0004505,
            "created_at": "2023-11-14T22:13:20.123Z",
            "model": "openai/gpt-4o",
            "is_byok": False,
            "provider_name": "openai",
            "streamed": True,
            "finish_reason": "stop",
            "latency": 200,
            "generation_time": 1500,
            "native_tokens_prompt": 100,
            "native_tokens_completion": 50,
            "native_tokens_reasoning": 7,
            "native_tokens_cached": 20,
            "native_tokens_cache_creation": 0,
            "billable_web_search_calls": 0,
        }
    }
    assert b'"total_cost":0.0004505,' in raw  # the decimal itself, not a float's rendering
    [asked] = edge.fakes.billing.requests
    assert (asked.team_id, asked.generation_id) == ("team_1", edge.gen_id)


async def test_generation_lookup_errors(edge: Edge, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{edge.url}/v1/generation", headers=edge.headers) as reply:
        assert reply.status == 400
        assert (await reply.json())["error"]["param"] == "id"
    other_team = {**edge.headers, "x-tollgate-team-id": "team_2"}
    url = f"{edge.url}/v1/generation?id={edge.gen_id}"
    async with http.get(url, headers=other_team) as reply:
        assert reply.status == 404
        assert (await reply.json())["error"]["type"] == "not_found"


async def test_request_log(edge: Edge, http: aiohttp.ClientSession) -> None:
    url = f"{edge.url}/v1/requests?model=openai/gpt-4o&provider=openai&projectId=prj_9"
    async with http.get(url, headers=edge.headers) as reply:
        page = await reply.json()
    assert page["nextCursor"] == "cursor_2"
    assert page["data"] == [
        {
            "generationId": edge.gen_id,
            "createdAt": "2023-11-14T22:13:20.000Z",
            "projectId": None,
            "keyId": "key_1",
            "model": "openai/gpt-4o",
            "provider": "openai",
            "credentialType": "system",
            "inputTokens": 12,
            "outputTokens": 3,
            "cachedInputTokens": 0,
            "reasoningTokens": 0,
            "cost": "0.00006",
            "marketCost": "0.00006",
            "ttftMs": 120,
            "latencyMs": 480,
            "streamed": True,
            "finishReason": "stop",
            "status": "success",
            "appTitle": "Suite",
            "appReferer": None,
            "attempts": 1,
            "surface": None,  # chat completions; "messages" for the Messages API
        }
    ]
    [asked] = edge.fakes.activity.requests
    assert (asked.team_id, asked.page_size, asked.page_token) == ("team_1", 50, "")
    assert (asked.model, asked.provider, asked.project_id) == ("openai/gpt-4o", "openai", "prj_9")

    async with http.get(
        f"{edge.url}/v1/requests?cursor=cursor_2&limit=200", headers=edge.headers
    ) as reply:
        page = await reply.json()
    assert page["nextCursor"] is None
    assert edge.fakes.activity.requests[-1].page_size == 200


@pytest.mark.parametrize("limit", ["0", "201", "abc", "-1", "1.5"])
async def test_request_log_rejects_a_bad_limit(
    edge: Edge, http: aiohttp.ClientSession, limit: str
) -> None:
    async with http.get(f"{edge.url}/v1/requests?limit={limit}", headers=edge.headers) as reply:
        assert reply.status == 400
        assert (await reply.json())["error"]["param"] == "limit"


# --- health and the envelope everywhere -------------------------------------------------------


async def test_health(edge: Edge, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{edge.url}/healthz") as reply:
        assert (reply.status, await reply.json()) == (200, {"status": "ok"})
    async with http.get(f"{edge.url}/readyz") as reply:
        assert reply.status == 200
        assert await reply.json() == {
            "status": "ready",
            "checks": {s: "serving" for s in ("auth", "router", "billing", "activity")},
        }


async def test_not_ready_names_the_failing_peer(
    edge_with: Any, http: aiohttp.ClientSession
) -> None:
    async with (
        edge_with(auth_addr="127.0.0.1:1") as edge,
        http.get(f"{edge.url}/readyz") as reply,
    ):
        assert reply.status == 503
        body = await reply.json()
    assert body["checks"]["auth"] == "not_serving"
    assert body["checks"]["router"] == "serving"
    assert body["error"]["type"] == "service_unavailable"
    assert "auth" in body["error"]["message"]


async def test_unknown_paths_and_methods_answer_in_the_envelope(
    edge: Edge, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{edge.url}/v1/nothing-here", headers=edge.headers) as reply:
        assert reply.status == 404
        assert (await reply.json())["error"]["type"] == "not_found"
    async with http.get(f"{edge.url}/v1/chat/completions", headers=edge.headers) as reply:
        assert reply.status == 405
        assert reply.headers["allow"] == "POST"
        assert set((await reply.json())["error"]) == {"message", "type", "param", "code"}
    async with http.get(f"{edge.url}/v1/models") as reply:
        assert reply.status == 401
        assert (await reply.json())["error"]["type"] == "authentication_error"


async def test_trace_context_travels_and_a_bad_request_id_is_replaced(
    edge: Edge, http: aiohttp.ClientSession
) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    async with await _post_chat(
        http, edge, body, **{"x-request-id": "caf\u00e9", "traceparent": traceparent}
    ) as reply:
        assert reply.status == 200
    [metadata] = edge.fakes.router.metadata
    assert metadata["traceparent"] == traceparent
    assert metadata["x-request-id"] != "caf\u00e9" and metadata["x-request-id"].isascii()
    assert edge.fakes.router.requests[0].caller.request_id == metadata["x-request-id"]
