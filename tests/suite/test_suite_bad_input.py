"""Bad request bodies through Envoy get a 4xx in the OpenAI error envelope, never a 500: JSON
nested deeper than the edge's limit (on every JSON endpoint), and a body over the size limit."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.api import auth, client
from tests.support.upstreams import Upstream

MODEL = "openai/gpt-4.1-mini"
MAX_JSON_DEPTH = 64  # docs/deploy.md, "Request limits"

# Every endpoint that reads a JSON body (path under the public URL, method).
JSON_ENDPOINTS = [
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/embeddings"),
    ("POST", "/v1/credits/top-up"),
    ("POST", "/v1/credits/adjustments"),
    ("PUT", "/v1/budgets/team/{team}"),
    ("POST", "/v1/teams"),
    ("PATCH", "/v1/teams/{team}"),
    ("POST", "/v1/api-keys"),
    ("PUT", "/v1/byok/openai"),
    ("POST", "/v1/oidc/issuers"),
    ("POST", "/v1/ai/language-model"),
    ("POST", "/v3/ai/embedding-model"),
]


def _nested(levels: int) -> str:
    """A JSON value of ``levels`` nested arrays and objects: [{"a": [{"a": ... 1 ...}]}]."""
    opening = "".join("[" if level % 2 == 0 else '{"a":' for level in range(levels))
    closing = "".join("]" if level % 2 == 0 else "}" for level in reversed(range(levels)))
    return f"{opening}1{closing}"


def _team(stack: Stack) -> str:
    reply = httpx.get(f"{stack.base_url}/me", headers=auth(stack))
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()
    team: str = data.get("teamId") or data["team"]["id"]
    return team


def _send(stack: Stack, method: str, path: str, body: str) -> httpx.Response:
    url = f"{stack.base_url.removesuffix('/v1')}{path.format(team=_team(stack))}"
    headers = {
        **auth(stack),
        "content-type": "application/json",
        "ai-model-id": MODEL,
        "ai-language-model-id": MODEL,
    }
    return httpx.request(method, url, content=body.encode(), headers=headers, timeout=60)


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
def test_json_nested_too_deep_is_a_400_naming_the_parameter(
    stack: Stack, method: str, path: str
) -> None:
    reply = _send(stack, method, path, f'{{"model": "{MODEL}", "metadata": {_nested(100)}}}')
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == {
        "message": f"`metadata` nests deeper than {MAX_JSON_DEPTH} levels",
        "type": "invalid_request_error",
        "param": "metadata",
        "code": None,
    }


def test_json_deeper_than_the_parser_goes_is_a_400(stack: Stack) -> None:
    reply = _send(stack, "POST", "/v1/chat/completions", _nested(5000))
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"] == f"the request body nests deeper than {MAX_JSON_DEPTH} levels"


def test_a_tool_schema_within_the_limit_is_served(stack: Stack, fresh_upstream: Upstream) -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(25):  # 2 levels each: 52 levels in the request body
        schema = {"type": "object", "properties": {"inner": schema}}
    reply = client(stack).chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "deep but fine"}],
        tools=[{"type": "function", "function": {"name": "probe", "parameters": schema}}],
    )
    assert reply.choices[0].message.content == "Echo: deep but fine"


def test_a_deep_tool_schema_is_refused_before_any_provider_is_called(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(40):
        schema = {"type": "object", "properties": {"inner": schema}}
    with pytest.raises(openai.BadRequestError) as refused:
        client(stack).chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "too deep"}],
            tools=[{"type": "function", "function": {"name": "probe", "parameters": schema}}],
        )
    assert refused.value.param == "tools"
    assert fresh_upstream.requests() == []


def test_a_body_over_the_size_limit_is_a_413_in_the_envelope(stack: Stack) -> None:
    huge = "x" * (33 * 1024 * 1024)
    reply = _send(
        stack,
        "POST",
        "/v1/chat/completions",
        f'{{"model": "{MODEL}", "messages": [{{"role": "user", "content": "{huge}"}}]}}',
    )
    assert reply.status_code == 413
    assert reply.json()["error"]["type"] == "invalid_request_error"
