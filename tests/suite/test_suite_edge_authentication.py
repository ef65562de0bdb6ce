"""The hot model routes authenticated inside the edge (issue 18): Envoy asks auth nothing on
chat completions, embeddings, the Messages API and the AI SDK's models; the edge answers from its
cache of credentials and follows auth's revocation facts (docs/architecture.md, "Trust").

What a client notices must not change: the same refusals (auth's own bodies, Anthropic's envelope
on /v1/messages*), a revoked key, a removed member, a demoted role, an expired key or a deleted
project's token refused as soon as the fact reaches the edge (polled for a few seconds, no timing
asserted); and with auth down, keys the edge knows keep working while unknown ones get a 503."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest
from tollgate_cli.stack import Stack

from tests.support.admin import AdminSuite, Secrets, Tenant, new_tenant
from tests.support.catalog import ANTHROPIC_MODEL
from tests.support.polling import eventually
from tests.support.stacks import suite_config
from tests.support.upstreams import Upstream

MODEL = "openai/gpt-4o-mini"
HELLO = [{"role": "user", "content": "hello"}]
# How long a fact may take to reach the edge on a busy test machine (a bound on the test, not
# a timing assertion: the edge is required to act on the first request after the fact).
FACT_PATIENCE = 5.0
UNKNOWN_KEY = "tg_" + "0" * 43


@pytest.fixture(scope="module")
def suite(stack: Stack) -> AdminSuite:
    return AdminSuite(stack, "sqlite", Secrets([stack.bootstrap_key()]))


def _openai(stack: Stack, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key=key, max_retries=0)


def _chat_status(stack: Stack, key: str) -> int:
    """The HTTP status a chat completion with ``key`` comes back with."""
    try:
        _openai(stack, key).chat.completions.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
    except openai.APIStatusError as refused:
        return refused.status_code
    return 200


def _refused_soon(call: Callable[[], int]) -> int:
    """Poll ``call`` (a status) until it is no longer 200, for FACT_PATIENCE seconds at most."""
    deadline = time.monotonic() + FACT_PATIENCE
    while True:
        status = call()
        if status != 200 or time.monotonic() >= deadline:
            return status
        time.sleep(0.05)


def _post(stack: Stack, path: str, headers: dict[str, str], body: Any) -> httpx.Response:
    url = f"http://127.0.0.1:{stack.config.ports.public}{path}"
    return httpx.post(url, content=orjson.dumps(body), headers=headers, timeout=30)


def test_refusals_are_auths_own_on_every_route(stack: Stack) -> None:
    """An unknown key: the model routes answer exactly what auth's ext_authz answers on the
    admin API (status, body, WWW-Authenticate); the Messages API in Anthropic's envelope."""
    bearer = {"authorization": f"Bearer {UNKNOWN_KEY}", "content-type": "application/json"}
    admin = httpx.get(f"{stack.base_url}/models", headers=bearer, timeout=30)
    assert admin.status_code == 401
    message = admin.json()["error"]["message"]
    body = {"model": MODEL, "messages": HELLO}
    for path in ("/v1/chat/completions", "/v1/embeddings", "/v1/ai/language-model"):
        hot = _post(stack, path, bearer, body)
        assert hot.status_code == 401, (path, hot.text)
        assert hot.json() == admin.json(), path
        assert hot.headers["www-authenticate"] == "Bearer"
    # The same key in x-api-key, and no credential at all: auth's answers for those, too.
    for headers in ({"x-api-key": UNKNOWN_KEY}, {}):
        admin = httpx.get(f"{stack.base_url}/models", headers=headers, timeout=30)
        hot = _post(stack, "/v1/chat/completions", headers, body)
        assert (hot.status_code, hot.json()) == (401, admin.json())

    client = anthropic.Anthropic(
        base_url=f"http://127.0.0.1:{stack.config.ports.public}", api_key=UNKNOWN_KEY
    )
    with pytest.raises(anthropic.AuthenticationError) as refused:
        client.messages.create(model=ANTHROPIC_MODEL, max_tokens=16, messages=HELLO)  # type: ignore[arg-type]
    assert refused.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": message},
    }


def test_a_viewer_is_refused_inference_with_auths_403(suite: AdminSuite) -> None:
    tenant = new_tenant(suite, "edge-viewer")
    with pytest.raises(openai.PermissionDeniedError) as refused:
        _openai(suite.stack, tenant.viewer.key).chat.completions.create(
            model=MODEL,
            messages=HELLO,  # type: ignore[arg-type]
        )
    assert refused.value.response.json() == {
        "error": {
            "message": "a team viewer may not call inference",
            "type": "forbidden",
            "param": None,
            "code": "forbidden",
        }
    }
    client = anthropic.Anthropic(base_url=suite.origin, api_key=tenant.viewer.key)
    with pytest.raises(anthropic.PermissionDeniedError) as denied:
        client.messages.count_tokens(model=ANTHROPIC_MODEL, messages=HELLO)  # type: ignore[arg-type]
    assert denied.value.body == {
        "type": "error",
        "error": {"type": "permission_error", "message": "a team viewer may not call inference"},
    }
    # Its key still reads (Envoy's ext_authz on the other routes).
    assert tenant.viewer.call("GET", "/v1/models").status_code == 200


def test_a_revoked_key_is_refused_on_the_model_routes(suite: AdminSuite) -> None:
    tenant = new_tenant(suite, "edge-revoke")
    created = tenant.member.ok("POST", "/v1/api-keys", 201, json={"name": "hot"})
    suite.secrets.keys.append(created["key"])
    for _ in range(3):  # the edge knows it from the first request on
        assert _chat_status(suite.stack, created["key"]) == 200
    tenant.owner.ok("DELETE", f"/v1/api-keys/{created['id']}", 204)
    assert _refused_soon(lambda: _chat_status(suite.stack, created["key"])) == 401
    # The other keys of the team are untouched.
    assert _chat_status(suite.stack, tenant.member.key) == 200


def test_a_removed_member_and_a_demoted_one_are_refused(suite: AdminSuite) -> None:
    tenant = new_tenant(suite, "edge-members")
    assert _chat_status(suite.stack, tenant.member.key) == 200
    assert _chat_status(suite.stack, tenant.owner.key) == 200
    team = tenant.team_id
    tenant.owner.ok("DELETE", f"/v1/teams/{team}/members/{tenant.member_id}", 204)
    assert _refused_soon(lambda: _chat_status(suite.stack, tenant.member.key)) == 401
    # The owner demotes themself to viewer: inference is refused (403), reading is not.
    owner = tenant.owner
    other = owner.ok(
        "POST", f"/v1/teams/{team}/members", 201, json={"email": "o2@x.example", "role": "owner"}
    )
    assert other["role"] == "owner"
    owner.ok("PATCH", f"/v1/teams/{team}/members/{tenant.owner_id}", json={"role": "viewer"})
    assert _refused_soon(lambda: _chat_status(suite.stack, owner.key)) == 403


def test_an_expired_key_is_not_kept_past_its_expiry(suite: AdminSuite) -> None:
    tenant = new_tenant(suite, "edge-expiry")
    expires = datetime.now(UTC) + timedelta(seconds=3)
    created = tenant.member.ok(
        "POST",
        "/v1/api-keys",
        201,
        json={"name": "expiring", "expiresAt": expires.isoformat().replace("+00:00", "Z")},
    )
    suite.secrets.keys.append(created["key"])
    assert _chat_status(suite.stack, created["key"]) == 200  # cached by the edge from here on
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()))
    assert _refused_soon(lambda: _chat_status(suite.stack, created["key"])) == 401


def test_a_deleted_projects_token_is_refused(suite: AdminSuite) -> None:
    tenant = new_tenant(suite, "edge-oidc")
    project = tenant.owner.ok(
        "POST", f"/v1/teams/{tenant.team_id}/projects", 201, json={"name": "doomed"}
    )
    token = tenant.member.ok("POST", "/v1/oidc/token", json={"projectId": project["id"]})["token"]
    suite.secrets.keys.append(token)
    assert _chat_status(suite.stack, token) == 200
    tenant.owner.ok("DELETE", f"/v1/teams/{tenant.team_id}/projects/{project['id']}", 204)
    assert _refused_soon(lambda: _chat_status(suite.stack, token)) == 401


def test_a_new_key_works_at_once(suite: AdminSuite) -> None:
    tenant = new_tenant(suite, "edge-new")
    for _ in range(20):  # a flood of wrong keys first
        assert _chat_status(suite.stack, "tg_wrong" + "1" * 30) == 401
    created = tenant.member.ok("POST", "/v1/api-keys", 201, json={"name": "fresh"})
    suite.secrets.keys.append(created["key"])
    assert _chat_status(suite.stack, created["key"]) == 200


# Auth stopped: a stack of the module's own, so the shared one keeps its auth.


@pytest.fixture(scope="module")
def own_stack(
    upstream: Upstream,
    anthropic_upstream: Upstream,
    gemini_upstream: Upstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    config = suite_config(tmp_path_factory, upstream, anthropic_upstream, gemini_upstream)
    with Stack(config) as running:
        yield running


@contextlib.contextmanager
def _auth_killed(stack: Stack) -> Iterator[None]:
    auth = stack.child("auth").process
    auth.kill()
    auth.wait(timeout=30)
    try:
        yield
    finally:
        stack.respawn("auth")
        eventually(lambda: _chat_status(stack, UNKNOWN_KEY) == 401, timeout=90)


def test_with_auth_down_known_keys_keep_working(own_stack: Stack) -> None:
    tenant: Tenant = new_tenant(
        AdminSuite(own_stack, "sqlite", Secrets([own_stack.bootstrap_key()])), "edge-down"
    )
    assert _chat_status(own_stack, tenant.member.key) == 200  # the edge knows it now
    with _auth_killed(own_stack):
        # A real generation, with no auth to ask.
        reply = _openai(own_stack, tenant.member.key).chat.completions.create(
            model=MODEL,
            messages=HELLO,  # type: ignore[arg-type]
        )
        assert reply.id.startswith("gen_")
        # A key the edge does not know: 503, the authentication service is unavailable (a
        # client retries), in the envelope of its API.
        with pytest.raises(openai.InternalServerError) as unavailable:
            _openai(own_stack, UNKNOWN_KEY).chat.completions.create(
                model=MODEL,
                messages=HELLO,  # type: ignore[arg-type]
            )
        assert unavailable.value.status_code == 503
        assert unavailable.value.response.headers["retry-after"] == "1"
        assert unavailable.value.response.json()["error"]["type"] == "service_unavailable"
        client = anthropic.Anthropic(
            base_url=f"http://127.0.0.1:{own_stack.config.ports.public}",
            api_key=UNKNOWN_KEY,
            max_retries=0,
        )
        with pytest.raises(anthropic.APIStatusError) as overloaded:
            client.messages.count_tokens(model=ANTHROPIC_MODEL, messages=HELLO)  # type: ignore[arg-type]
        assert overloaded.value.status_code == 503
        assert overloaded.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
        # The admin API still goes through Envoy's ext_authz: unavailable too.
        assert tenant.member.call("GET", "/v1/models").status_code == 503
