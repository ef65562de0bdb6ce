"""Envoy as deployed by the suite: its effective configuration, and streams not buffered."""

from __future__ import annotations

import time
from typing import Any

import httpx
import openai
from tollgate_cli.stack import Stack
from tollgate_edge.authn import HOT_PATHS

from tests.support.catalog import ANTHROPIC_MODEL
from tests.support.upstreams import Upstream


def _config_dump(stack: Stack) -> dict[str, Any]:
    reply = httpx.get(f"http://127.0.0.1:{stack.config.ports.envoy_admin}/config_dump")
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()
    return data


def _section(dump: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in dump["configs"] if c["@type"].endswith(kind))


def test_admin_listens_on_loopback_only(stack: Stack) -> None:
    bootstrap = _section(_config_dump(stack), "BootstrapConfigDump")["bootstrap"]
    assert bootstrap["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"


def test_filters_strip_then_authorize_then_limit(stack: Stack) -> None:
    listeners = _section(_config_dump(stack), "ListenersConfigDump")["static_listeners"]
    [public] = [entry["listener"] for entry in listeners]
    manager = public["filter_chains"][0]["filters"][0]["typed_config"]
    names = [f["name"] for f in manager["http_filters"]]
    assert names == [
        "envoy.filters.http.header_mutation",
        "envoy.filters.http.ext_authz",
        "envoy.filters.http.buffer",
        "envoy.filters.http.router",
    ]
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    unauthenticated = {
        r["match"].get("path") or r["match"].get("prefix")
        for r in routes
        if "envoy.filters.http.ext_authz" in r.get("typed_per_filter_config", {})
    }
    assert unauthenticated == {
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/.well-known/",
        "/dashboard",
        "/v1/credits/payment-hook",  # signed by the payment provider, not keyed (docs/billing.md)
        # The hot model routes: the edge authenticates them itself (docs/architecture.md,
        # "Trust"), exactly the paths it knows as such.
        *HOT_PATHS,
    }
    [catch_all] = [r for r in routes if r["match"].get("prefix") == "/"]
    assert catch_all["route"]["timeout"] == "0s"  # long streams are not cut by a route timeout
    for route in routes:
        if route["match"].get("path") in HOT_PATHS:
            assert route["route"] == catch_all["route"]  # streams as long as any other route


def test_sse_chunks_reach_the_client_as_they_are_produced(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    delay_ms = 400
    fresh_upstream.script(chunk_delay_ms=delay_ms, reply="one two three four five")
    api = openai.OpenAI(base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0)
    start = time.monotonic()
    arrivals: list[float] = []
    for chunk in api.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "slowly"}], stream=True
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic() - start)
    assert len(arrivals) >= 3
    # Buffered anywhere on the way, every chunk would arrive at the end together; streamed, the
    # first arrives several upstream delays before the last.
    assert arrivals[-1] - arrivals[0] > 2 * delay_ms / 1000


def test_envoys_own_refusals_speak_the_envelope_of_the_path(stack: Stack) -> None:
    """A body past Envoy's limit never reaches the edge: the 413 is Envoy's, yet the anthropic
    SDK on /v1/messages must still read Anthropic's envelope, and the OpenAI SDK OpenAI's."""
    headers = {"x-api-key": stack.bootstrap_key(), "content-type": "application/json"}
    too_large = b'{"model": "' + b"x" * (33 * 1024 * 1024) + b'"}'
    messages = httpx.post(f"{stack.base_url}/messages", content=too_large, headers=headers)
    chat = httpx.post(f"{stack.base_url}/chat/completions", content=too_large, headers=headers)

    assert messages.status_code == chat.status_code == 413
    assert messages.json() == {
        "type": "error",
        "error": {"type": "request_too_large", "message": "The request body is too large."},
    }
    assert chat.json()["error"]["code"] == "request_too_large"


def test_a_header_with_an_underscore_is_dropped_not_refused(stack: Stack) -> None:
    """Envoy drops such headers (a backend could read x_api_key as x-api-key) instead of
    refusing the request with a 400 the client cannot explain."""
    reply = httpx.post(
        f"{stack.base_url}/messages/count_tokens",
        json={"model": ANTHROPIC_MODEL, "messages": [{"role": "user", "content": "Hi"}]},
        headers={"x-api-key": stack.bootstrap_key(), "x_api_key": "tg-forged"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["input_tokens"] > 0
