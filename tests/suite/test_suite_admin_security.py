"""Security of the admin API through Envoy (issue 3, "Security tests"): tenant isolation (404,
never 403), viewers cannot write, revoked and expired keys are refused within one second, bad
input changes nothing, and no API key reaches a log line or an error body."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.admin import (
    AdminSuite,
    Api,
    Tenant,
    admin_suite,
    new_tenant,
    refused_within_one_second,
)

__all__ = ["admin_suite"]


@pytest.fixture(scope="session")
def bad_input_tenant(admin_suite: AdminSuite) -> Tenant:
    """One tenant for the many bad-input cases (they change nothing, by design)."""
    return new_tenant(admin_suite, "badinput")


def _state(tenant: Tenant) -> dict[str, Any]:
    """Everything of a tenant that the admin API shows its owner."""
    owner, team = tenant.owner, tenant.team_id
    return {
        "team": owner.ok("GET", f"/v1/teams/{team}"),
        "members": owner.ok("GET", f"/v1/teams/{team}/members")["data"],
        "projects": owner.ok("GET", f"/v1/teams/{team}/projects")["data"],
        "keys": [
            {k: v for k, v in key.items() if k != "lastUsedAt"}
            for key in owner.ok("GET", "/v1/api-keys", params={"includeRevoked": "true"})["data"]
        ],
    }


def _requests_into(victim: Tenant) -> list[tuple[str, str, dict[str, Any]]]:
    """Every admin request that names the victim's team or something in it."""
    team = victim.team_id
    user, project, key = victim.member_id, victim.project_id, victim.key_ids["member"]
    return [
        ("GET", f"/v1/teams/{team}", {}),
        ("PATCH", f"/v1/teams/{team}", {"json": {"name": "pwned"}}),
        ("DELETE", f"/v1/teams/{team}", {}),
        ("GET", f"/v1/teams/{team}/members", {}),
        (
            "POST",
            f"/v1/teams/{team}/members",
            {"json": {"email": "x@evil.example", "role": "owner"}},
        ),
        ("PATCH", f"/v1/teams/{team}/members/{user}", {"json": {"role": "viewer"}}),
        ("DELETE", f"/v1/teams/{team}/members/{user}", {}),
        ("GET", f"/v1/teams/{team}/projects", {}),
        ("POST", f"/v1/teams/{team}/projects", {"json": {"name": "evil"}}),
        ("DELETE", f"/v1/teams/{team}/projects/{project}", {}),
        ("GET", "/v1/api-keys", {"params": {"teamId": team}}),
        ("POST", "/v1/api-keys", {"json": {"name": "evil", "teamId": team}}),
        ("DELETE", f"/v1/api-keys/{key}", {}),
    ]


def test_another_teams_objects_are_not_found(admin_suite: AdminSuite) -> None:
    a, b = new_tenant(admin_suite, "alpha"), new_tenant(admin_suite, "bravo")
    before = _state(b)
    for caller in (a.owner, a.member, a.viewer):
        for method, path, kwargs in _requests_into(b):
            reply = caller.call(method, path, **kwargs)
            assert reply.status_code == 404, (method, path, reply.text)
            assert reply.json()["error"]["type"] == "not_found"
    # Ids of B's objects used inside A's own team are unknown there too.
    for method, path, kwargs in [
        ("PATCH", f"/v1/teams/{a.team_id}/members/{b.member_id}", {"json": {"role": "viewer"}}),
        ("DELETE", f"/v1/teams/{a.team_id}/members/{b.member_id}", {}),
        ("DELETE", f"/v1/teams/{a.team_id}/projects/{b.project_id}", {}),
        ("POST", "/v1/api-keys", {"json": {"name": "x", "projectId": b.project_id}}),
    ]:
        reply = a.owner.call(method, path, **kwargs)
        assert reply.status_code == 404, (method, path, reply.text)
    assert b.team_id not in {t["id"] for t in a.owner.ok("GET", "/v1/teams")["data"]}
    assert all(k["teamId"] == a.team_id for k in a.owner.ok("GET", "/v1/api-keys")["data"])
    assert _state(b) == before


def _writes_in(tenant: Tenant) -> list[tuple[str, str, dict[str, Any]]]:
    team = tenant.team_id
    return [
        ("POST", "/v1/teams", {"json": {"slug": f"{tenant.slug}-x", "name": "x"}}),
        ("PATCH", f"/v1/teams/{team}", {"json": {"name": "renamed"}}),
        ("DELETE", f"/v1/teams/{team}", {}),
        (
            "POST",
            f"/v1/teams/{team}/members",
            {"json": {"email": "y@ex.example", "role": "member"}},
        ),
        ("PATCH", f"/v1/teams/{team}/members/{tenant.member_id}", {"json": {"role": "owner"}}),
        ("DELETE", f"/v1/teams/{team}/members/{tenant.member_id}", {}),
        ("POST", f"/v1/teams/{team}/projects", {"json": {"name": "p"}}),
        ("DELETE", f"/v1/teams/{team}/projects/{tenant.project_id}", {}),
        ("POST", "/v1/api-keys", {"json": {"name": "mine"}}),
        ("DELETE", f"/v1/api-keys/{tenant.key_ids['viewer']}", {}),
        ("DELETE", f"/v1/api-keys/{tenant.key_ids['owner']}", {}),
    ]


def test_a_viewer_cannot_write(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "readonly")
    before = _state(tenant)
    for method, path, kwargs in _writes_in(tenant):
        reply = tenant.viewer.call(method, path, **kwargs)
        assert reply.status_code == 403, (method, path, reply.text)
        assert reply.json()["error"]["type"] == "forbidden"
    # ... but reads.
    tenant.viewer.ok("GET", f"/v1/teams/{tenant.team_id}")
    tenant.viewer.ok("GET", f"/v1/teams/{tenant.team_id}/members")
    tenant.viewer.ok("GET", "/v1/api-keys")
    assert _state(tenant) == before


def test_a_member_cannot_do_what_only_owners_do(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "member")
    before = _state(tenant)
    team = tenant.team_id
    owner_only = [
        ("PATCH", f"/v1/teams/{team}", {"json": {"name": "renamed"}}),
        ("DELETE", f"/v1/teams/{team}", {}),
        ("POST", f"/v1/teams/{team}/members", {"json": {"email": "z@ex.example", "role": "owner"}}),
        ("PATCH", f"/v1/teams/{team}/members/{tenant.viewer_id}", {"json": {"role": "owner"}}),
        ("PATCH", f"/v1/teams/{team}/members/{tenant.member_id}", {"json": {"role": "owner"}}),
        ("DELETE", f"/v1/teams/{team}/members/{tenant.viewer_id}", {}),
        ("POST", f"/v1/teams/{team}/projects", {"json": {"name": "p"}}),
        ("DELETE", f"/v1/teams/{team}/projects/{tenant.project_id}", {}),
        ("POST", "/v1/api-keys", {"json": {"name": "theirs", "userId": tenant.viewer_id}}),
        ("DELETE", f"/v1/api-keys/{tenant.key_ids['owner']}", {}),
    ]
    for method, path, kwargs in owner_only:
        reply = tenant.member.call(method, path, **kwargs)
        assert reply.status_code == 403, (method, path, reply.text)
    assert _state(tenant) == before


def test_a_revoked_key_is_refused_within_one_second(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "revoke")
    created = tenant.member.ok("POST", "/v1/api-keys", 201, json={"name": "short-lived"})
    admin_suite.secrets.keys.append(created["key"])
    doomed = tenant.member.as_key(created["key"])
    for _ in range(3):  # cached by ext_authz now
        assert doomed.call("GET", "/v1/models").status_code == 200
    tenant.owner.ok("DELETE", f"/v1/api-keys/{created['id']}", 204)
    reply = refused_within_one_second(lambda: doomed.call("GET", "/v1/models"))
    assert reply.status_code == 401
    assert reply.json()["error"]["type"] == "authentication_error"


def test_an_expired_key_is_refused_within_one_second(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "expiry")
    expires = datetime.now(UTC) + timedelta(seconds=3)
    created = tenant.member.ok(
        "POST",
        "/v1/api-keys",
        201,
        json={"name": "expiring", "expiresAt": expires.isoformat().replace("+00:00", "Z")},
    )
    admin_suite.secrets.keys.append(created["key"])
    assert created["expiresAt"] is not None
    expiring = tenant.member.as_key(created["key"])
    assert expiring.call("GET", "/v1/models").status_code == 200  # cached from here on
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()))
    reply = refused_within_one_second(lambda: expiring.call("GET", "/v1/models"))
    assert reply.status_code == 401


def test_a_removed_members_key_is_refused_within_one_second(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "removed")
    assert tenant.member.call("GET", "/v1/models").status_code == 200
    tenant.owner.ok("DELETE", f"/v1/teams/{tenant.team_id}/members/{tenant.member_id}", 204)
    assert (
        refused_within_one_second(lambda: tenant.member.call("GET", "/v1/models")).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "param"),
    [
        ("POST", "/v1/teams", b"{not json", None),
        ("POST", "/v1/teams", b"[1, 2]", None),
        ("POST", "/v1/teams", b'{"slug": "ok-slug", "name": "n", "owner": "me"}', "owner"),
        ("POST", "/v1/teams", b'{"slug": 7, "name": "n"}', "slug"),
        ("POST", "/v1/teams", b'{"slug": "Not A Slug", "name": "n"}', "slug"),
        ("POST", "/v1/teams", b'{"name": "n"}', "slug"),
        ("PATCH", "/v1/teams/{team}", b'{"name": ["x"]}', "name"),
        ("PATCH", "/v1/teams/{team}", b'{"name": "x", "id": "team_other"}', "id"),
        ("POST", "/v1/teams/{team}/members", b'{"email": "x@y.example", "role": "admin"}', "role"),
        (
            "POST",
            "/v1/teams/{team}/members",
            b'{"email": "not-an-email", "role": "member"}',
            "email",
        ),
        ("POST", "/v1/teams/{team}/members", b'{"email": true, "role": "member"}', "email"),
        ("POST", "/v1/teams/{team}/projects", b'{"name": ""}', "name"),
        ("POST", "/v1/teams/{team}/projects", b'{"name": "p", "extra": 1}', "extra"),
        ("POST", "/v1/api-keys", b'{"name": "k", "expiresAt": "tomorrow"}', "expiresAt"),
        ("POST", "/v1/api-keys", b'{"name": "k", "expiresAt": 1700000000}', "expiresAt"),
        ("POST", "/v1/api-keys", b'{"name": "k", "scopes": ["all"]}', "scopes"),
        ("POST", "/v1/api-keys", b'{"name": 12}', "name"),
        ("POST", "/v1/api-keys", b"", "name"),
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(
    bad_input_tenant: Tenant, method: str, path: str, body: bytes, param: str | None
) -> None:
    tenant = bad_input_tenant
    before = _state(tenant)
    teams_before = tenant.owner.ok("GET", "/v1/teams")
    reply = tenant.owner.call(
        method,
        path.format(team=tenant.team_id),
        content=body,
        headers={"content-type": "application/json"},
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert _state(tenant) == before
    assert tenant.owner.ok("GET", "/v1/teams") == teams_before


def test_an_oversized_body_is_a_413_and_changes_nothing(bad_input_tenant: Tenant) -> None:
    tenant = bad_input_tenant
    before = _state(tenant)
    huge = b'{"name": "' + b"x" * (128 * 1024) + b'"}'
    reply = tenant.owner.call(
        "POST",
        f"/v1/teams/{tenant.team_id}/projects",
        content=huge,
        headers={"content-type": "application/json"},
    )
    assert reply.status_code == 413
    assert reply.json()["error"]["type"] == "invalid_request_error"
    assert _state(tenant) == before


def test_no_api_key_in_any_log_line(admin_suite: AdminSuite) -> None:
    """Runs after the tests above in this module: every key they created or used."""
    # Keys that were refused are worth a look too: a refusal must not log the key either.
    Api(admin_suite.origin, "tg_" + "Z" * 40, admin_suite.secrets).call("GET", "/v1/me")
    secrets = admin_suite.secrets.keys
    assert len(secrets) > 5
    logs = sorted(admin_suite.stack.log_dir.glob("*.log"))
    assert {p.stem for p in logs} >= {"auth", "edge", "router", "billing", "activity"}
    for path in logs:
        text = path.read_text(errors="replace")
        for secret in [*secrets, "tg_" + "Z" * 40]:
            assert secret not in text, f"an API key appears in {path.name}"
