"""BYOK credentials through Envoy: stored sealed, never returned, per team, owners only; and
handed out in plaintext only over the internal RPC, only for the team asked about."""

from __future__ import annotations

import asyncio
import uuid

import grpc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from tollgate.auth.v1 import auth_pb2, auth_pb2_grpc

from tests.support.admin import AdminSuite, Tenant, admin_suite, new_tenant
from tests.support.internal import as_caller

__all__ = ["admin_suite"]


def _secret(admin_suite: AdminSuite) -> str:
    secret = f"sk-byok-{uuid.uuid4().hex}"
    admin_suite.secrets.keys.append(secret)
    return secret


def _internal_secret(admin_suite: AdminSuite, team_id: str, provider: str) -> dict[str, str] | None:
    """What the router would get from auth's internal RPC."""
    port = admin_suite.stack.config.ports.auth
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        reply = stub.GetByokSecret(
            auth_pb2.GetByokSecretRequest(team_id=team_id, provider=provider),
            timeout=10,
            metadata=as_caller(admin_suite.stack, "router"),
        )
    return dict(reply.credentials) if reply.found else None


def test_a_credential_goes_in_but_never_comes_out(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "byok")
    secret = _secret(admin_suite)
    created = tenant.owner.call("PUT", "/v1/byok/openai", json={"credentials": {"apiKey": secret}})
    assert created.status_code == 201, created.text
    assert secret not in created.text
    item = created.json()
    assert item["provider"] == "openai" and item["enabled"] is True
    assert item["hint"] == secret[-4:]
    assert item["lastTest"] is None
    assert set(item) == {"provider", "enabled", "hint", "createdAt", "updatedAt", "lastTest"}

    replaced = tenant.owner.call(
        "PUT", "/v1/byok/openai", json={"credentials": {"apiKey": secret + "Z"}, "enabled": True}
    )
    assert replaced.status_code == 200
    listed = tenant.viewer.call("GET", "/v1/byok")
    assert listed.status_code == 200 and secret not in listed.text
    assert [c["hint"] for c in listed.json()["data"]] == [(secret + "Z")[-4:]]
    assert _internal_secret(admin_suite, tenant.team_id, "openai") == {"apiKey": secret + "Z"}

    off = tenant.owner.ok("PATCH", "/v1/byok/openai", json={"enabled": False})
    assert off["enabled"] is False
    assert _internal_secret(admin_suite, tenant.team_id, "openai") is None  # disabled: not used
    tenant.owner.ok("DELETE", "/v1/byok/openai", 204)
    assert tenant.owner.call("DELETE", "/v1/byok/openai").status_code == 404
    assert tenant.owner.ok("GET", "/v1/byok")["data"] == []


async def _stored_rows(admin_suite: AdminSuite) -> list[tuple[object, ...]]:
    config = admin_suite.stack.config
    url = config.env.get("TOLLGATE_AUTH_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{(config.data_dir / 'auth.db').resolve()}"
    )
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return [
                tuple(row) for row in await conn.execute(text("SELECT * FROM byok_credentials"))
            ]
    finally:
        await engine.dispose()


def test_at_rest_the_secret_is_sealed(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "atrest")
    secret = _secret(admin_suite)
    tenant.owner.ok("PUT", "/v1/byok/anthropic", 201, json={"credentials": {"apiKey": secret}})
    rows = asyncio.run(_stored_rows(admin_suite))
    assert rows
    for row in rows:
        for value in row:
            raw = value if isinstance(value, bytes) else str(value).encode()
            assert secret.encode() not in raw
            assert secret[:-4].encode() not in raw


def test_only_owners_manage_and_only_their_team(admin_suite: AdminSuite) -> None:
    a, b = new_tenant(admin_suite, "byoka"), new_tenant(admin_suite, "byokb")
    secret = _secret(admin_suite)
    a.owner.ok("PUT", "/v1/byok/openai", 201, json={"credentials": {"apiKey": secret}})
    body = {"credentials": {"apiKey": _secret(admin_suite)}}
    for caller in (a.member, a.viewer):
        assert caller.call("PUT", "/v1/byok/groq", json=body).status_code == 403
        assert caller.call("PATCH", "/v1/byok/openai", json={"enabled": False}).status_code == 403
        assert caller.call("DELETE", "/v1/byok/openai").status_code == 403
    for method, kwargs in (
        ("GET", {}),
        ("PUT", {"json": body}),
        ("PATCH", {"json": {"enabled": False}}),
        ("DELETE", {}),
    ):
        path = "/v1/byok" if method == "GET" else "/v1/byok/openai"
        reply = b.owner.call(method, path, params={"teamId": a.team_id}, **kwargs)
        assert reply.status_code == 404, (method, reply.text)
    assert b.owner.ok("GET", "/v1/byok")["data"] == []
    assert _internal_secret(admin_suite, b.team_id, "openai") is None
    assert _internal_secret(admin_suite, a.team_id, "openai") == {"apiKey": secret}
    assert a.owner.ok("GET", "/v1/byok")["data"][0]["enabled"] is True


def test_bad_credentials_are_400_and_change_nothing(admin_suite: AdminSuite) -> None:
    tenant: Tenant = new_tenant(admin_suite, "byokbad")
    for path, body, param in [
        ("/v1/byok/openai", {"credentials": {}}, "credentials.apiKey"),
        ("/v1/byok/openai", {"credentials": {"apiKey": "  "}}, "credentials.apiKey"),
        ("/v1/byok/openai", {"credentials": {"apiKey": 5}}, "credentials.apiKey"),
        ("/v1/byok/openai", {"credentials": "sk-x"}, "credentials"),
        ("/v1/byok/openai", {"credentials": {"apiKey": "sk-x"}, "enabled": "yes"}, "enabled"),
        ("/v1/byok/openai", {"credentials": {"apiKey": "sk-x"}, "note": "x"}, "note"),
        ("/v1/byok/not-a-provider", {"credentials": {"apiKey": "sk-x"}}, "provider"),
    ]:
        reply = tenant.owner.call("PUT", path, json=body)
        assert reply.status_code == 400, (body, reply.text)
        assert reply.json()["error"]["param"] == param
    assert tenant.owner.ok("GET", "/v1/byok")["data"] == []


def test_deleting_the_team_removes_its_credentials(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "byokgone")
    tenant.owner.ok(
        "PUT", "/v1/byok/mistral", 201, json={"credentials": {"apiKey": _secret(admin_suite)}}
    )
    tenant.owner.ok("DELETE", f"/v1/teams/{tenant.team_id}", 204)
    assert _internal_secret(admin_suite, tenant.team_id, "mistral") is None
