"""Tollgate's OIDC tokens on real auth servers: issued for a project, accepted by ext_authz as
that team and project, refused when forged, expired, misaddressed or orphaned; and a rotated
signing key is honoured by every replica."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from typing import Any

import grpc
import jwt
import pytest
from tollgate.auth.v1 import auth_pb2
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2 as pb
from tollgate_auth.settings import AuthSettings
from tollgate_common.errors import error_details

BOOTSTRAP_KEY = "bootstrap-secret-for-oidc"
ISSUER = "https://gateway.example"


def _check(token: str, path: str = "/v1/chat/completions") -> pb.CheckRequest:
    return pb.CheckRequest(
        attributes=pb.AttributeContext(
            request=pb.AttributeContext.Request(
                http=pb.AttributeContext.HttpRequest(
                    method="POST", path=path, headers={"authorization": f"Bearer {token}"}
                )
            )
        )
    )


def _headers(answer: pb.CheckResponse) -> dict[str, str]:
    assert answer.status.code == 0, answer.denied_response.body
    return {h.header.key: h.header.value for h in answer.ok_response.headers}


def _refusal(answer: pb.CheckResponse) -> dict[str, Any]:
    assert answer.denied_response.status.code == 401, answer
    error: dict[str, Any] = json.loads(answer.denied_response.body)["error"]
    assert error["type"] == "authentication_error"
    return error


async def _setup(make_settings: Callable[..., AuthSettings], auth_servers: Any) -> Any:
    server = await auth_servers.start(
        make_settings(bootstrap_api_key=BOOTSTRAP_KEY, oidc_issuer=ISSUER)
    )
    admin = (
        await server.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=BOOTSTRAP_KEY))
    ).principal
    project = (
        await server.auth.CreateProject(
            auth_pb2.CreateProjectRequest(caller=admin, team_id=admin.team_id, name="web")
        )
    ).project
    return server, admin, project


async def test_a_project_token_is_accepted_as_its_team_and_project(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server, admin, project = await _setup(make_settings, auth_servers)
    issued = await server.auth.IssueOidcToken(
        auth_pb2.IssueOidcTokenRequest(caller=admin, project_id=project.id)
    )
    header = jwt.get_unverified_header(issued.token)
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    assert header["alg"] == "ES256" and header["kid"]
    assert claims["iss"] == ISSUER and claims["aud"] == "tollgate"
    assert claims["sub"] == f"team:{admin.team_id}:project:{project.id}"
    assert (claims["teamId"], claims["projectId"]) == (admin.team_id, project.id)
    assert claims["exp"] - claims["iat"] == 12 * 3600
    assert issued.expires_at.seconds == claims["exp"]

    jwks = json.loads((await server.auth.GetJwks(auth_pb2.GetJwksRequest())).jwks_json)
    [key] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert (key["kty"], key["crv"], key["alg"]) == ("EC", "P-256", "ES256") and "d" not in key
    verified = jwt.decode(
        issued.token, jwt.PyJWK(key).key, algorithms=["ES256"], audience="tollgate", issuer=ISSUER
    )
    assert verified["projectId"] == project.id

    identity = _headers(await server.ext_authz.Check(_check(issued.token)))
    assert identity["x-tollgate-team-id"] == admin.team_id
    assert identity["x-tollgate-project-id"] == project.id
    assert identity["x-tollgate-auth-method"] == "oidc"
    assert identity["x-tollgate-key-id"] == "" and identity["x-tollgate-user-id"] == ""

    # An OIDC token calls the gateway; it does not administer it.
    caller = auth_pb2.Principal(
        team_id=admin.team_id, project_id=project.id, auth_method=auth_pb2.AUTH_METHOD_OIDC
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.auth.ListTeams(auth_pb2.ListTeamsRequest(caller=caller))
    assert error_details(caught.value).code is grpc.StatusCode.PERMISSION_DENIED


async def test_forged_expired_and_misaddressed_tokens_are_refused(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server, admin, project = await _setup(make_settings, auth_servers)
    key = server.app.signing_keys.active()
    now = int(time.time())
    good = {
        "iss": ISSUER,
        "aud": "tollgate",
        "sub": f"team:{admin.team_id}:project:{project.id}",
        "teamId": admin.team_id,
        "projectId": project.id,
        "iat": now,
        "exp": now + 3600,
    }

    def signed(claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(
            claims, key.private_key, algorithm="ES256", headers={"kid": key.kid, **header}
        )

    assert (await server.ext_authz.Check(_check(signed(good)))).status.code == 0
    other_key = jwt.encode(good, _other_private_key(), algorithm="ES256", headers={"kid": key.kid})
    unsigned = (
        base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": key.kid}).encode())
        .decode()
        .rstrip("=")
        + "."
        + base64.urlsafe_b64encode(json.dumps(good).encode()).decode().rstrip("=")
        + "."
    )
    genuine = signed(good)
    head, _, signature = genuine.split(".")
    elevated = {**good, "teamId": "team_someone_else", "sub": "team:team_someone_else:project:x"}
    tampered = ".".join(
        [
            head,
            base64.urlsafe_b64encode(json.dumps(elevated).encode()).decode().rstrip("="),
            signature,
        ]
    )
    cases = {
        "expired": signed({**good, "iat": now - 13 * 3600, "exp": now - 3600}),
        "wrong audience": signed({**good, "aud": "someone-else"}),
        "wrong issuer": signed({**good, "iss": "https://evil.example"}),
        "no expiry": signed({k: v for k, v in good.items() if k != "exp"}),
        "sub does not match": signed({**good, "sub": "team:x:project:y"}),
        "unknown project": signed(
            {**good, "projectId": "prj_gone", "sub": f"team:{admin.team_id}:project:prj_gone"}
        ),
        "signed by another key": other_key,
        "unknown kid": signed(good, kid="sig_unknown"),
        "alg none": unsigned,
        "tampered": tampered,
    }
    for name, token in cases.items():
        error = _refusal(await server.ext_authz.Check(_check(token)))
        assert error["code"] == "invalid_token", name
        assert token not in json.dumps(error), name


async def test_a_deleted_projects_token_is_refused_within_one_second(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server, admin, project = await _setup(make_settings, auth_servers)
    token = (
        await server.auth.IssueOidcToken(
            auth_pb2.IssueOidcTokenRequest(caller=admin, project_id=project.id)
        )
    ).token
    assert (await server.ext_authz.Check(_check(token))).status.code == 0
    await server.auth.DeleteProject(
        auth_pb2.DeleteProjectRequest(caller=admin, team_id=admin.team_id, project_id=project.id)
    )
    deadline = time.monotonic() + 1.0
    while True:
        answer = await server.ext_authz.Check(_check(token))
        if answer.status.code != 0 or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    _refusal(answer)


async def test_a_rotated_key_is_honoured_by_every_replica(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    first, admin, project = await _setup(make_settings, auth_servers)
    second = await auth_servers.start(
        make_settings(bootstrap_api_key=BOOTSTRAP_KEY, oidc_issuer=ISSUER)
    )
    request = auth_pb2.IssueOidcTokenRequest(caller=admin, project_id=project.id)
    before = (await first.auth.IssueOidcToken(request)).token
    await first.app.signing_keys.add(retire_others=True)
    await first.app.signing_keys.refresh()
    after = (await first.auth.IssueOidcToken(request)).token
    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    await asyncio.sleep(1.0)  # past the rate limit on re-reading keys for an unknown kid
    for token in (before, after):  # the old key still verifies; the new one is learnt on sight
        assert (await second.ext_authz.Check(_check(token))).status.code == 0
    jwks = json.loads((await second.auth.GetJwks(auth_pb2.GetJwksRequest())).jwks_json)
    assert len(jwks["keys"]) == 2


async def test_only_writers_issue_tokens_and_only_for_their_projects(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server, admin, project = await _setup(make_settings, auth_servers)
    viewer = await server.auth.AddMember(
        auth_pb2.AddMemberRequest(
            caller=admin, team_id=admin.team_id, email="vic@example.com", role=auth_pb2.ROLE_VIEWER
        )
    )
    as_viewer = auth_pb2.Principal(
        team_id=admin.team_id,
        user_id=viewer.member.user_id,
        auth_method=auth_pb2.AUTH_METHOD_API_KEY,
    )
    for caller, project_id, code in [
        (as_viewer, project.id, grpc.StatusCode.PERMISSION_DENIED),
        (admin, "prj_not_here", grpc.StatusCode.NOT_FOUND),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await server.auth.IssueOidcToken(
                auth_pb2.IssueOidcTokenRequest(caller=caller, project_id=project_id)
            )
        assert error_details(caught.value).code is code


def _other_private_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())
