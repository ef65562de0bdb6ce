"""The real auth gRPC server on port 0: Authenticate and Envoy's Check over a real channel."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import event
from tollgate.auth.v1 import auth_pb2
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2 as pb
from tollgate_auth.settings import AuthSettings
from tollgate_common.errors import error_details

BOOTSTRAP_KEY = "bootstrap-secret-from-env"
JWT = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ0ZWFtIn0.c2lnbmF0dXJl"


def check_request(**headers: str) -> pb.CheckRequest:
    return pb.CheckRequest(
        attributes=pb.AttributeContext(
            request=pb.AttributeContext.Request(
                http=pb.AttributeContext.HttpRequest(
                    method="POST", path="/v1/chat/completions", headers=headers
                )
            )
        )
    )


def identity(response: pb.CheckResponse) -> dict[str, str]:
    assert response.status.code == 0, response.denied_response.body
    return {h.header.key: h.header.value for h in response.ok_response.headers}


def refusal(response: pb.CheckResponse) -> dict[str, Any]:
    """The OpenAI error of a 401 denied_response."""
    assert response.status.code == grpc.StatusCode.UNAUTHENTICATED.value[0]
    assert response.WhichOneof("http_response") == "denied_response"
    denied = response.denied_response
    assert denied.status.code == 401
    headers = {h.header.key: h.header.value for h in denied.headers}
    assert headers["content-type"] == "application/json"
    assert headers["www-authenticate"] == "Bearer"
    body = json.loads(denied.body)
    assert body["error"]["type"] == "authentication_error"
    assert body["error"]["param"] is None
    assert isinstance(body["error"]["message"], str)
    return dict(body["error"])


async def wait_until_following_revocations(server: Any) -> None:
    """Until the server has subscribed to revocations (cached keys are trusted for their TTL)."""
    for _ in range(200):
        if server.app.listener.live:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the auth server never subscribed to key revocations")


async def authenticate_error(server: Any, credential: str) -> Any:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=credential))
    return error_details(caught.value)


async def test_bootstrap_key_from_env(
    monkeypatch: pytest.MonkeyPatch,
    make_settings: Callable[..., AuthSettings],
    auth_servers: Any,
    data_dir: Path,
) -> None:
    monkeypatch.setenv("TOLLGATE_BOOTSTRAP_API_KEY", BOOTSTRAP_KEY)
    server = await auth_servers.start(make_settings())
    assert not (data_dir / "bootstrap-key").exists()

    reply = await server.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=BOOTSTRAP_KEY))
    principal = reply.principal
    assert principal.team_slug == "default"
    assert principal.team_id.startswith("team_")
    assert principal.user_id.startswith("user_")
    assert principal.key_id.startswith("key_")
    assert principal.project_id == ""
    assert principal.role == auth_pb2.ROLE_OWNER
    assert principal.auth_method == auth_pb2.AUTH_METHOD_API_KEY

    response = await server.ext_authz.Check(check_request(authorization=f"Bearer {BOOTSTRAP_KEY}"))
    assert identity(response) == {
        "x-tollgate-team-id": principal.team_id,
        "x-tollgate-team-slug": "default",
        "x-tollgate-user-id": principal.user_id,
        "x-tollgate-key-id": principal.key_id,
        "x-tollgate-project-id": "",
        "x-tollgate-role": "owner",
        "x-tollgate-auth-method": "api-key",
        "x-tollgate-operator": "true",  # the bootstrap key's user is the operator
        "x-tollgate-permissions": (
            "inference,read,team:create,api-keys:own,oidc-tokens,api-keys:any,members,projects,"
            "byok,oidc-issuers,credits:top-up,budgets,team:update,team:delete,operators"
        ),
    }
    assert set(response.ok_response.headers_to_remove) == {"authorization", "x-api-key"}


async def test_generated_bootstrap_key_file(
    make_settings: Callable[..., AuthSettings], auth_servers: Any, data_dir: Path
) -> None:
    server = await auth_servers.start(make_settings())
    key_file = data_dir / "bootstrap-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / "auth-pepper").stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert key.startswith("tg_")
    assert len(key) == 43

    reply = await server.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=key))
    assert reply.principal.team_slug == "default"
    assert identity(await server.ext_authz.Check(check_request(**{"x-api-key": key})))


async def test_restart_keeps_the_bootstrap_key_and_pepper(
    make_settings: Callable[..., AuthSettings], auth_servers: Any, data_dir: Path
) -> None:
    first = await auth_servers.start(make_settings())
    key = (data_dir / "bootstrap-key").read_text().strip()
    before = await first.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=key))
    await auth_servers.stop(first)

    second = await auth_servers.start(make_settings())
    assert (data_dir / "bootstrap-key").read_text().strip() == key
    after = await second.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=key))
    assert after.principal == before.principal


async def test_a_wrong_key_is_refused(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    details = await authenticate_error(server, "tg_not-a-key")
    assert details.code == grpc.StatusCode.UNAUTHENTICATED
    assert details.reason == "INVALID_API_KEY"

    for headers in ({"authorization": "Bearer tg_not-a-key"}, {"x-api-key": "tg_not-a-key"}):
        error = refusal(await server.ext_authz.Check(check_request(**headers)))
        assert error["code"] == "invalid_api_key"
        assert "tg_not-a-key" not in error["message"]


async def test_a_missing_credential_is_refused(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    for headers in ({}, {"authorization": "Basic dXNlcjpwYXNz"}, {"authorization": "Bearer "}):
        error = refusal(await server.ext_authz.Check(check_request(**headers)))
        assert error["code"] == "missing_api_key"
        assert "API key is required" in error["message"]
    assert (await authenticate_error(server, "")).reason == "MISSING_API_KEY"


async def test_x_api_key_decides_over_authorization(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    invalid_beside_valid = check_request(
        **{"x-api-key": "tg_wrong", "authorization": f"Bearer {BOOTSTRAP_KEY}"}
    )
    assert refusal(await server.ext_authz.Check(invalid_beside_valid))["code"] == "invalid_api_key"
    beside_a_jwt = check_request(**{"x-api-key": BOOTSTRAP_KEY, "authorization": f"Bearer {JWT}"})
    assert identity(await server.ext_authz.Check(beside_a_jwt))["x-tollgate-role"] == "owner"


async def test_an_oidc_token_is_not_supported_yet(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    error = refusal(await server.ext_authz.Check(check_request(authorization=f"Bearer {JWT}")))
    assert error["code"] == "invalid_token"
    assert (await authenticate_error(server, JWT)).reason == "INVALID_TOKEN"


async def test_revoked_and_expired_keys_are_refused(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    owner = (
        await server.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=BOOTSTRAP_KEY))
    ).principal
    service = server.app.service

    # Revoked in the database (as another replica would): refused on first sight.
    revoked = await service.create_api_key(owner.team_id, owner.user_id, "ci")
    assert await server.app.repository.revoke_key(revoked.key_id)
    assert (await authenticate_error(server, revoked.key)).reason == "API_KEY_REVOKED"
    error = refusal(await server.ext_authz.Check(check_request(**{"x-api-key": revoked.key})))
    assert error["code"] == "invalid_api_key"
    assert "revoked" in error["message"]

    # Revoked through this process while cached: refused at once.
    cached = await service.create_api_key(owner.team_id, owner.user_id, "laptop")
    assert identity(await server.ext_authz.Check(check_request(**{"x-api-key": cached.key})))
    assert await service.revoke_key(cached.key_id)
    assert (await authenticate_error(server, cached.key)).reason == "API_KEY_REVOKED"

    expired = await service.create_api_key(
        owner.team_id, owner.user_id, "old", expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    assert (await authenticate_error(server, expired.key)).reason == "API_KEY_EXPIRED"


async def test_cache_hits_do_not_touch_the_database(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    await wait_until_following_revocations(server)
    statements: list[str] = []

    def count(*args: Any) -> None:
        if "api_keys" in str(args[2]):  # not the outbox relay's look at its backlog
            statements.append(str(args[2]))

    event.listen(server.app.engine.sync_engine, "before_cursor_execute", count)
    request = check_request(authorization=f"Bearer {BOOTSTRAP_KEY}")
    assert identity(await server.ext_authz.Check(request))
    assert len(statements) == 1
    for _ in range(50):
        assert identity(await server.ext_authz.Check(request))
    for _ in range(20):
        refusal(await server.ext_authz.Check(check_request(**{"x-api-key": "tg_unknown"})))
    assert len(statements) == 2  # one lookup for the good key, one for the unknown one


async def test_last_use_is_recorded_by_the_flush(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    principal = (
        await server.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=BOOTSTRAP_KEY))
    ).principal
    repository = server.app.repository
    assert await repository.key_last_used(principal.key_id) is None
    assert await server.app.service.flush_last_used() == 1
    used = await repository.key_last_used(principal.key_id)
    assert used is not None
    assert datetime.now(UTC) - used < timedelta(minutes=1)


async def test_shutdown_flushes_the_last_uses(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    principal = (
        await server.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=BOOTSTRAP_KEY))
    ).principal
    await auth_servers.stop(server)

    again = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    assert await again.app.repository.key_last_used(principal.key_id) is not None


async def test_health_reports_both_services(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    health: Any = health_pb2_grpc.HealthStub(server.channel)
    for name in ("", "tollgate.auth.v1.AuthService", "envoy.service.auth.v3.Authorization"):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=name))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
