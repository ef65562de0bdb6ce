"""The admin API through Envoy, as docs/admin-api.md describes it: shapes, status codes, the seed
rules of teams, and what a viewer may call."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.support.admin import AdminSuite, admin_suite, new_tenant

__all__ = ["admin_suite"]


def test_me_of_the_bootstrap_key(admin_suite: AdminSuite) -> None:
    me = admin_suite.api().ok("GET", "/v1/me")
    assert me["user"]["email"] == "admin@localhost"
    assert me["user"]["id"].startswith("user_")
    assert me["team"]["slug"] == "default"
    assert me["team"]["id"].startswith("team_")
    assert me["role"] == "owner"
    assert me["projectId"] is None
    assert me["keyId"].startswith("key_")
    assert me["authMethod"] == "api-key"


def test_team_lifecycle(admin_suite: AdminSuite) -> None:
    admin = admin_suite.api()
    team = admin.ok("POST", "/v1/teams", 201, json={"slug": "lifecycle-team", "name": "Life"})
    assert team["id"].startswith("team_") and team["role"] == "owner"
    listed = admin.ok("GET", "/v1/teams")
    assert team["id"] in {t["id"] for t in listed["data"]}
    assert listed["nextCursor"] is None

    renamed = admin.ok("PATCH", f"/v1/teams/{team['id']}", json={"name": "Renamed"})
    assert (renamed["name"], renamed["slug"]) == ("Renamed", "lifecycle-team")
    taken = admin.call("POST", "/v1/teams", json={"slug": "lifecycle-team", "name": "Again"})
    assert taken.status_code == 409
    assert taken.json()["error"]["type"] == "conflict"

    key = admin.ok("POST", "/v1/api-keys", 201, json={"name": "doomed", "teamId": team["id"]})
    assert admin.as_key(key["key"]).call("GET", "/v1/me").status_code == 200
    admin.ok("DELETE", f"/v1/teams/{team['id']}", 204)
    assert admin.call("GET", f"/v1/teams/{team['id']}").status_code == 404
    # Deleting the team removed its keys.
    assert admin.as_key(key["key"]).call("GET", "/v1/me").status_code == 401


def test_members_and_the_seed_rules(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "seed")
    owner = tenant.owner
    team = tenant.team_id
    members = owner.ok("GET", f"/v1/teams/{team}/members")["data"]
    assert {m["role"] for m in members} == {"owner", "member", "viewer"}
    assert set(members[0]) == {"userId", "email", "role", "joinedAt"}

    # The last owner can be neither demoted nor leave.
    demote = owner.call(
        "PATCH", f"/v1/teams/{team}/members/{tenant.owner_id}", json={"role": "member"}
    )
    assert demote.status_code == 409, demote.text
    leave = owner.call("DELETE", f"/v1/teams/{team}/members/{tenant.owner_id}")
    assert leave.status_code == 409, leave.text

    # Promote the member; now the first owner may leave.
    promoted = owner.ok(
        "PATCH", f"/v1/teams/{team}/members/{tenant.member_id}", json={"role": "owner"}
    )
    assert promoted["role"] == "owner"
    owner.ok("DELETE", f"/v1/teams/{team}/members/{tenant.owner_id}", 204)
    # Their key stopped working with their membership.
    assert owner.call("GET", "/v1/me").status_code == 401

    # A viewer may leave; then the last member cannot leave but deletes the team.
    tenant.viewer.ok("DELETE", f"/v1/teams/{team}/members/{tenant.viewer_id}", 204)
    last = tenant.member.call("DELETE", f"/v1/teams/{team}/members/{tenant.member_id}")
    assert last.status_code == 409
    assert "delete" in last.json()["error"]["message"]
    tenant.member.ok("DELETE", f"/v1/teams/{team}", 204)


def test_adding_an_unknown_email_creates_the_user(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "invite")
    added = tenant.owner.ok(
        "POST",
        f"/v1/teams/{tenant.team_id}/members",
        201,
        json={"email": "Newcomer@Example.com", "role": "member"},
    )
    assert added["userId"].startswith("user_")
    assert added["email"] == "newcomer@example.com"
    again = tenant.owner.call(
        "POST",
        f"/v1/teams/{tenant.team_id}/members",
        json={"email": "newcomer@example.com", "role": "viewer"},
    )
    assert again.status_code == 409


def test_projects(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "projects")
    path = f"/v1/teams/{tenant.team_id}/projects"
    created = tenant.owner.ok("POST", path, 201, json={"name": "api"})
    assert set(created) == {"id", "teamId", "name", "createdAt"}
    assert created["id"].startswith("prj_")
    key = tenant.owner.ok(
        "POST", "/v1/api-keys", 201, json={"name": "scoped", "projectId": created["id"]}
    )
    admin_suite.secrets.keys.append(key["key"])
    assert tenant.owner.as_key(key["key"]).ok("GET", "/v1/me")["projectId"] == created["id"]
    names = {p["name"] for p in tenant.viewer.ok("GET", path)["data"]}
    assert names == {"web", "api"}
    tenant.owner.ok("DELETE", f"{path}/{created['id']}", 204)
    assert tenant.owner.call("DELETE", f"{path}/{created['id']}").status_code == 404
    # The project's keys went with it.
    assert tenant.owner.as_key(key["key"]).call("GET", "/v1/me").status_code == 401


def test_api_keys_are_shown_once_and_listed_by_role(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "keys")
    created = tenant.member.ok("POST", "/v1/api-keys", 201, json={"name": "laptop"})
    admin_suite.secrets.keys.append(created["key"])
    assert set(created) >= {
        "id",
        "key",
        "prefix",
        "name",
        "teamId",
        "projectId",
        "userId",
        "createdAt",
        "expiresAt",
    }
    assert created["key"].startswith("tg_")
    assert created["prefix"] == created["key"][:12]
    assert created["userId"] == tenant.member_id
    assert created["teamId"] == tenant.team_id

    mine = tenant.member.ok("GET", "/v1/api-keys")["data"]
    assert {k["userId"] for k in mine} == {tenant.member_id}
    assert all("key" not in k for k in mine)
    everyone = tenant.owner.ok("GET", "/v1/api-keys")["data"]
    assert {k["userId"] for k in everyone} == {tenant.owner_id, tenant.member_id, tenant.viewer_id}

    tenant.member.ok("DELETE", f"/v1/api-keys/{created['id']}", 204)
    assert created["id"] not in {k["id"] for k in tenant.member.ok("GET", "/v1/api-keys")["data"]}
    revoked = tenant.member.ok("GET", "/v1/api-keys", params={"includeRevoked": "true"})["data"]
    [again] = [k for k in revoked if k["id"] == created["id"]]
    assert again["revokedAt"] is not None

    # Only an owner creates keys for someone else, and only for a member.
    for_other = {"name": "x", "userId": tenant.owner_id}
    assert tenant.member.call("POST", "/v1/api-keys", json=for_other).status_code == 403
    made = tenant.owner.ok(
        "POST", "/v1/api-keys", 201, json={"name": "for member", "userId": tenant.member_id}
    )
    admin_suite.secrets.keys.append(made["key"])
    outsider = tenant.owner.call(
        "POST", "/v1/api-keys", json={"name": "x", "userId": "user_nobody"}
    )
    assert outsider.status_code == 400 and outsider.json()["error"]["param"] == "userId"
    past = tenant.owner.call(
        "POST", "/v1/api-keys", json={"name": "x", "expiresAt": "2020-01-01T00:00:00Z"}
    )
    assert past.status_code == 400 and past.json()["error"]["param"] == "expiresAt"


def test_lists_page_with_limit_and_cursor(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "paging")
    path = f"/v1/teams/{tenant.team_id}/projects"
    for name in ("b", "c", "d"):
        tenant.owner.ok("POST", path, 201, json={"name": name})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = tenant.owner.ok("GET", path, params=params)
        assert len(page["data"]) <= 2
        seen += [p["name"] for p in page["data"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == ["b", "c", "d", "web"]
    for bad in ("0", "201", "x"):
        reply = tenant.owner.call("GET", path, params={"limit": bad})
        assert reply.status_code == 400 and reply.json()["error"]["param"] == "limit"
    garbage = tenant.owner.call("GET", path, params={"cursor": "%%%"})
    assert garbage.status_code == 400


def test_viewers_read_but_do_not_call_inference(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "viewer")
    base_url = admin_suite.stack.base_url
    viewer = openai.OpenAI(base_url=base_url, api_key=tenant.viewer.key, max_retries=0)
    assert viewer.models.list().data
    with pytest.raises(openai.PermissionDeniedError) as refused:
        viewer.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert refused.value.status_code == 403
    body = refused.value.body
    assert isinstance(body, dict) and body.get("type") == "forbidden"
    member = openai.OpenAI(base_url=base_url, api_key=tenant.member.key, max_retries=0)
    reply = member.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.id.startswith("gen_")


def test_openapi_is_served_without_a_key(admin_suite: AdminSuite) -> None:
    reply = httpx.get(f"{admin_suite.origin}/openapi.json")
    assert reply.status_code == 200
    spec = reply.json()
    assert spec["openapi"] == "3.1.0"
    assert "/v1/api-keys/{keyId}" in spec["paths"]
