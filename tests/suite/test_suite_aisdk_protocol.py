"""The AI SDK protocol on the wire (``/v1/ai/*`` through Envoy), as docs/ai-sdk.md describes
it: the SSE framing of V2 stream parts, the V2 generate result, call warnings, and
the error answers the ``@ai-sdk/gateway`` client turns into its typed errors. A bad request is
a 400 naming the AI SDK's own field and reaches no provider. (The real clients run in
tests/clients/test_node_ai_gateway.py.)"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from tollgate_cli.stack import Stack

from tests.support.admin import AdminSuite, Secrets, new_tenant
from tests.support.upstreams import Upstream

MODEL = "openai/gpt-4o-mini"
PROMPT = [{"role": "user", "content": [{"type": "text", "text": "hello over the wire"}]}]


def call(
    stack: Stack,
    body: Any,
    *,
    model: str | None = MODEL,
    streaming: str = "false",
    key: str | None = None,
    prefix: str = "/v1/ai",
) -> httpx.Response:
    headers = {
        "authorization": f"Bearer {key or stack.bootstrap_key()}",
        "ai-gateway-protocol-version": "0.0.1",
        "ai-gateway-auth-method": "api-key",
        "ai-language-model-specification-version": "2",
        "ai-language-model-streaming": streaming,
    }
    if model is not None:
        headers["ai-language-model-id"] = model
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    origin = stack.base_url.removesuffix("/v1")
    return httpx.post(
        f"{origin}{prefix}/language-model", content=content, headers=headers, timeout=30
    )


def events(response: httpx.Response) -> list[dict[str, Any]]:
    """The stream's parts; every event is one ``data:`` line of JSON and a blank line."""
    assert response.headers["content-type"].startswith("text/event-stream")
    raw = response.text
    assert raw.endswith("\n\n")
    parts = []
    for event in raw[:-2].split("\n\n"):
        assert event.startswith("data: ") and "\n" not in event, event
        parts.append(orjson.loads(event.removeprefix("data: ")))
    return parts


def test_a_stream_is_well_formed_v2_parts(stack: Stack, fresh_upstream: Upstream) -> None:
    fresh_upstream.script(chunk_delay_ms=10)

    parts = events(call(stack, {"prompt": PROMPT}, streaming="true"))

    kinds = [p["type"] for p in parts]
    assert kinds[:3] == ["stream-start", "response-metadata", "text-start"]
    assert kinds[-2:] == ["text-end", "finish"]
    assert set(kinds[3:-2]) == {"text-delta"}
    generation_id = parts[1]["id"]
    assert generation_id.startswith("gen_") and parts[1]["modelId"] == MODEL
    text_id = parts[2]["id"]
    assert all(p["id"] == text_id for p in parts[2:-1])
    assert parts[2]["providerMetadata"] == {"gateway": {"generationId": generation_id}}
    assert "".join(p["delta"] for p in parts if p["type"] == "text-delta") == (
        "Echo: hello over the wire"
    )
    finish = parts[-1]
    assert finish["finishReason"] == "stop"
    assert finish["usage"]["outputTokens"] == 5 and finish["usage"]["totalTokens"] == 9
    assert finish["providerMetadata"]["gateway"]["generationId"] == generation_id


def test_the_generate_result_and_its_warnings(stack: Stack, fresh_upstream: Upstream) -> None:
    reply = call(
        stack,
        {"prompt": PROMPT, "topK": 40, "maxOutputTokens": 50, "stopSequences": ["END"]},
    )

    assert reply.status_code == 200
    result = reply.json()
    assert result["content"] == [{"type": "text", "text": "Echo: hello over the wire"}]
    assert result["finishReason"] == "stop"
    assert set(result["usage"]) == {
        "inputTokens",
        "outputTokens",
        "totalTokens",
        "reasoningTokens",
        "cachedInputTokens",
    }
    assert result["warnings"] == [{"type": "unsupported-setting", "setting": "topK"}]
    assert result["providerMetadata"]["gateway"]["generationId"].startswith("gen_")
    [sent] = fresh_upstream.requests()
    body: Any = sent["body"]
    assert body["max_tokens"] == 50 and body["stop"] == ["END"] and "top_k" not in body


def test_v3_answers_in_languagemodelv3_shapes(stack: Stack, fresh_upstream: Upstream) -> None:
    """``/v3/ai`` (``@ai-sdk/gateway`` 3, ``ai`` 6): the finish reason as ``{unified, raw}``,
    usage split by cache and reasoning, warnings as ``unsupported``."""
    whole = call(stack, {"prompt": PROMPT, "topK": 1}, prefix="/v3/ai").json()
    parts = events(call(stack, {"prompt": PROMPT}, streaming="true", prefix="/v3/ai"))

    assert whole["finishReason"] == {"unified": "stop", "raw": "stop"}
    assert whole["usage"] == {
        "inputTokens": {"total": 4, "noCache": 4, "cacheRead": 0, "cacheWrite": 0},
        "outputTokens": {"total": 5, "text": 5, "reasoning": 0},
    }
    assert whole["warnings"] == [{"type": "unsupported", "feature": "topK"}]
    assert parts[-1]["type"] == "finish" and parts[-1]["usage"] == whole["usage"]
    assert parts[-1]["finishReason"] == {"unified": "stop", "raw": "stop"}


def test_a_stream_cut_by_the_provider_ends_with_an_error_part(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(break_after_chunks=2, chunk_delay_ms=10)

    parts = events(call(stack, {"prompt": PROMPT}, streaming="true"))

    assert [p["type"] for p in parts[-3:]] == ["text-end", "error", "finish"]
    assert parts[-2]["error"]["message"] and parts[-2]["error"]["type"]
    assert parts[-1]["finishReason"] == "error"


@pytest.mark.parametrize(
    ("body", "headers", "param"),
    [
        (b"{not json", {}, None),
        ({"prompt": PROMPT}, {"model": None}, "ai-language-model-id"),
        ({"prompt": PROMPT}, {"streaming": "maybe"}, "ai-language-model-streaming"),
        ({"prompt": []}, {}, "prompt"),
        ({"prompt": [{"role": "robot", "content": "hi"}]}, {}, "prompt"),
        ({"prompt": PROMPT, "maxOutputTokens": 0}, {}, "maxOutputTokens"),
        ({"prompt": PROMPT, "topP": 3}, {}, "topP"),
        ({"prompt": PROMPT, "toolChoice": {"type": "sometimes"}}, {}, "toolChoice.type"),
    ],
)
def test_bad_requests_are_400_naming_the_field(
    stack: Stack,
    fresh_upstream: Upstream,
    body: Any,
    headers: dict[str, Any],
    param: str | None,
) -> None:
    reply = call(stack, body, **headers)

    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    if param is not None:
        assert param in error["message"]
    assert fresh_upstream.requests() == []


def test_an_unknown_model_names_it_for_the_client(stack: Stack, fresh_upstream: Upstream) -> None:
    reply = call(stack, {"prompt": PROMPT}, model="nobody/nothing")

    assert reply.status_code == 404
    error = reply.json()["error"]
    assert error["type"] == "model_not_found"
    assert error["param"] == {"modelId": "nobody/nothing"}


def test_a_wrong_key_is_an_authentication_error(stack: Stack, fresh_upstream: Upstream) -> None:
    reply = call(stack, {"prompt": PROMPT}, key="tg_wrong")

    assert reply.status_code == 401
    assert reply.json()["error"]["type"] == "authentication_error"
    assert fresh_upstream.requests() == []


def test_embedding_model_errors(stack: Stack, fresh_upstream: Upstream) -> None:
    url = f"{stack.base_url}/ai/embedding-model"
    auth = {"authorization": f"Bearer {stack.bootstrap_key()}"}

    missing = httpx.post(url, json={"input": "x"}, headers=auth)
    empty = httpx.post(url, json={"input": []}, headers={**auth, "ai-model-id": MODEL})
    unknown = httpx.post(url, json={"input": "x"}, headers={**auth, "ai-model-id": "no/such"})

    assert missing.status_code == 400 and missing.json()["error"]["param"] == "ai-model-id"
    assert empty.status_code == 400 and empty.json()["error"]["param"] == "input"
    assert unknown.status_code == 404
    assert unknown.json()["error"]["param"] == {"modelId": "no/such"}
    assert fresh_upstream.requests() == []


@pytest.mark.parametrize("prefix", ["/v1/ai", "/v3/ai"])
def test_a_viewer_may_list_models_but_not_generate(
    stack: Stack, fresh_upstream: Upstream, prefix: str
) -> None:
    tenant = new_tenant(AdminSuite(stack, "sqlite", Secrets([])), f"aisdk-viewer{prefix[2]}")

    listed = tenant.viewer.call("GET", f"{prefix}/config")
    refused = call(stack, {"prompt": PROMPT}, key=tenant.viewer.key, prefix=prefix)

    assert listed.status_code == 200 and listed.json()["models"]
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "forbidden"
    assert fresh_upstream.requests() == []
