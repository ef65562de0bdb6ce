"""`POST /v1/byok/{provider}/test` through Envoy: a minimal real request to the provider with the
team's stored key (or one given to try before saving), its outcome recorded as `lastTest` and in
the activity log; owners only, another team's credential is not found, and the key never comes
back. Also `tollgate byok test` from the CLI."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.support.admin import AdminSuite, Tenant, admin_suite, new_tenant
from tests.support.cli import tollgate
from tests.support.upstreams import Upstream

__all__ = ["admin_suite"]


def _key(admin_suite: AdminSuite, upstream: Upstream, accepted: bool = True) -> str:
    key = f"sk-byok-test-{uuid.uuid4().hex}"
    admin_suite.secrets.keys.append(key)
    if accepted:
        upstream.accept_keys(key)
    return key


def _store(tenant: Tenant, key: str, status: int = 201) -> None:
    tenant.owner.ok("PUT", "/v1/byok/openai", status, json={"credentials": {"apiKey": key}})


def _last_test(tenant: Tenant) -> Any:
    [credential] = tenant.owner.ok("GET", "/v1/byok")["data"]
    return credential["lastTest"]


def _tested_events(tenant: Tenant, count: int) -> list[dict[str, Any]]:
    """The team's `byok-credential-tested` activity, once ``count`` are there (or 10 s passed)."""
    deadline = time.monotonic() + 10
    while True:
        events = tenant.owner.ok("GET", "/v1/activity?type=byok-credential-tested")["data"]
        if len(events) >= count or time.monotonic() > deadline:
            return list(events)
        time.sleep(0.2)


def test_the_stored_key_is_tested_with_a_real_request(
    admin_suite: AdminSuite, upstream: Upstream
) -> None:
    tenant = new_tenant(admin_suite, "byok-test")
    key = _key(admin_suite, upstream)
    _store(tenant, key)
    upstream.reset()

    reply = tenant.owner.call("POST", "/v1/byok/openai/test")

    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert set(result) == {"ok", "statusCode", "message", "request", "response"}
    assert (result["ok"], result["statusCode"]) == (True, 200)
    assert result["request"]["provider"] == "openai"
    assert key not in reply.text
    [sent] = upstream.requests()
    assert sent["api_key"] == key
    assert sent["body"]["max_tokens"] == 1  # type: ignore[index]
    assert result["request"]["providerModelId"] == sent["body"]["model"]  # type: ignore[index]
    last = _last_test(tenant)
    assert (last["ok"], last["statusCode"]) == (True, 200)
    [event] = _tested_events(tenant, 1)
    assert event["target"] == {"type": "byok-credential", "id": "openai"}
    assert event["details"]["ok"] == "true"
    assert key not in json.dumps(event)


def test_a_refused_key_is_reported_not_raised(admin_suite: AdminSuite, upstream: Upstream) -> None:
    tenant = new_tenant(admin_suite, "byok-test")
    stored = _key(admin_suite, upstream)
    _store(tenant, stored)
    wrong = _key(admin_suite, upstream, accepted=False)
    upstream.reset()

    tried = tenant.owner.call(
        "POST", "/v1/byok/openai/test", json={"credentials": {"apiKey": wrong}}
    )

    assert tried.status_code == 200, tried.text
    result = tried.json()
    assert (result["ok"], result["statusCode"]) == (False, 401)
    assert "401" in result["message"]
    assert wrong not in tried.text
    assert [r["api_key"] for r in upstream.requests()] == [wrong]
    assert _last_test(tenant) is None  # a key tried before saving says nothing of the stored one

    _store(tenant, wrong, 200)  # now stored: its test is recorded
    assert tenant.owner.ok("POST", "/v1/byok/openai/test")["ok"] is False
    last = _last_test(tenant)
    assert (last["ok"], last["statusCode"]) == (False, 401)


def test_only_owners_test_and_only_their_teams(admin_suite: AdminSuite, upstream: Upstream) -> None:
    tenant, other = new_tenant(admin_suite, "byok-test"), new_tenant(admin_suite, "byok-other")
    _store(other, _key(admin_suite, upstream))
    _store(tenant, _key(admin_suite, upstream))
    upstream.reset()

    for role in (tenant.viewer, tenant.member):
        refused = role.call("POST", "/v1/byok/openai/test")
        assert refused.status_code == 403, refused.text
    hidden = tenant.owner.call("POST", f"/v1/byok/openai/test?teamId={other.team_id}")
    assert hidden.status_code == 404, hidden.text
    assert upstream.requests() == []  # nobody's key was sent anywhere

    nothing = tenant.owner.call("POST", "/v1/byok/anthropic/test")
    assert nothing.status_code == 404
    assert nothing.json()["error"]["message"] == "no BYOK credential for this provider"
    malformed = tenant.owner.call("POST", "/v1/byok/openai/test", json={"credentials": {}})
    assert malformed.status_code == 400
    assert malformed.json()["error"]["param"] == "credentials.apiKey"
    unknown = tenant.owner.call("POST", "/v1/byok/openai/test", json={"key": "x"})
    assert unknown.status_code == 400


def test_the_cli_tests_a_credential(admin_suite: AdminSuite, upstream: Upstream) -> None:
    tenant = new_tenant(admin_suite, "byok-cli")
    key = _key(admin_suite, upstream)
    _store(tenant, key)
    stack = admin_suite.stack

    done = tollgate(stack, "byok", "test", "openai", "-o", "json", key=tenant.owner.key)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
    assert key not in done.stdout

    wrong = _key(admin_suite, upstream, accepted=False)
    table = tollgate(stack, "byok", "test", "openai", "--stdin", key=tenant.owner.key, stdin=wrong)
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split() == ["OK", "STATUSCODE", "MESSAGE"]
    assert row.split()[:2] == ["no", "401"]
    assert wrong not in table.stdout
