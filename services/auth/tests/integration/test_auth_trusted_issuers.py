"""Trusted external issuers on a real auth server: a Kubernetes-style token of a registered
issuer acts as its team and project; anything that does not match the registration is refused,
and removing the registration refuses its tokens within a second."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from tollgate.auth.v1 import auth_pb2
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2 as pb
from tollgate_auth.settings import AuthSettings
from tollgate_common.errors import error_details

BOOTSTRAP_KEY = "bootstrap-secret-for-issuers"
CLUSTER = "https://kubernetes.default.svc.cluster.local"


class Issuer:
    """A stand-in for an external issuer: an RSA key, its JWKS and tokens it signs."""

    def __init__(self, kid: str = "k8s-1") -> None:
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.jwks = {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}

    def token(self, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": CLUSTER, "aud": "tollgate", "iat": now, "exp": now + 600, **claims}
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})


def _check(token: str) -> pb.CheckRequest:
    return pb.CheckRequest(
        attributes=pb.AttributeContext(
            request=pb.AttributeContext.Request(
                http=pb.AttributeContext.HttpRequest(
                    method="POST",
                    path="/v1/chat/completions",
                    headers={"authorization": f"Bearer {token}"},
                )
            )
        )
    )


async def _setup(
    make_settings: Callable[..., AuthSettings], auth_servers: Any, **extra: Any
) -> Any:
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY, **extra))
    admin = (
        await server.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=BOOTSTRAP_KEY))
    ).principal
    project = (
        await server.auth.CreateProject(
            auth_pb2.CreateProjectRequest(caller=admin, team_id=admin.team_id, name="svc")
        )
    ).project
    return server, admin, project


def _registration(signer: Issuer, **overrides: Any) -> auth_pb2.OidcIssuer:
    values: dict[str, Any] = {
        "issuer": CLUSTER,
        "jwks_json": json.dumps(signer.jwks),
        "audience": "tollgate",
        "team_claim_kind": "teamSlug",
        "team_claim": "tollgate/team",
        "project_claim": "tollgate/project",
    }
    values.update(overrides)
    return auth_pb2.OidcIssuer(**values)


async def test_a_trusted_issuers_token_acts_as_its_team_and_project(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server, admin, project = await _setup(make_settings, auth_servers)
    issuer = Issuer()
    added = await server.auth.AddOidcIssuer(
        auth_pb2.AddOidcIssuerRequest(caller=admin, issuer=_registration(issuer))
    )
    assert added.issuer.id.startswith("iss_")
    good = issuer.token(
        sub="system:serviceaccount:apps:web",
        **{"tollgate/team": "default", "tollgate/project": project.id},
    )
    answer = await server.ext_authz.Check(_check(good))
    assert answer.status.code == 0, answer.denied_response.body
    headers = {h.header.key: h.header.value for h in answer.ok_response.headers}
    assert headers["x-tollgate-team-id"] == admin.team_id
    assert headers["x-tollgate-project-id"] == project.id
    assert headers["x-tollgate-auth-method"] == "oidc"

    other = Issuer()
    symmetric = jwt.encode(
        {
            "iss": CLUSTER,
            "aud": "tollgate",
            "exp": int(time.time()) + 60,
            "tollgate/team": "default",
        },
        "shared-secret-shared-secret-shared",
        algorithm="HS256",
        headers={"kid": issuer.kid},
    )
    refused = {
        "wrong audience": issuer.token(aud="kubernetes", **{"tollgate/team": "default"}),
        "another team": issuer.token(**{"tollgate/team": "someone-else"}),
        "no team claim": issuer.token(),
        "expired": issuer.token(exp=int(time.time()) - 10, **{"tollgate/team": "default"}),
        "unknown project": issuer.token(
            **{"tollgate/team": "default", "tollgate/project": "prj_x"}
        ),
        "no project": issuer.token(**{"tollgate/team": "default"}),
        "another key": other.token(**{"tollgate/team": "default", "tollgate/project": project.id}),
        "unknown issuer": issuer.token(
            iss="https://elsewhere.example", **{"tollgate/team": "default"}
        ),
        "hs256": symmetric,
    }
    for name, token in refused.items():
        answer = await server.ext_authz.Check(_check(token))
        assert answer.denied_response.status.code == 401, name

    await server.auth.DeleteOidcIssuer(
        auth_pb2.DeleteOidcIssuerRequest(caller=admin, issuer_id=added.issuer.id)
    )
    deadline = time.monotonic() + 1.0
    while True:
        answer = await server.ext_authz.Check(_check(good))
        if answer.status.code != 0 or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    assert answer.denied_response.status.code == 401


@pytest.fixture
async def jwks_server() -> AsyncIterator[tuple[str, Issuer]]:
    issuer = Issuer("served-1")

    async def serve(_: web.Request) -> web.Response:
        return web.json_response(issuer.jwks)

    app = web.Application()
    app.router.add_get("/keys", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/keys", issuer
    finally:
        await runner.cleanup()


async def test_keys_are_fetched_from_the_jwks_uri(
    make_settings: Callable[..., AuthSettings], auth_servers: Any, jwks_server: Any
) -> None:
    uri, issuer = jwks_server
    server, admin, _ = await _setup(make_settings, auth_servers, oidc_allow_insecure_jwks=True)
    await server.auth.AddOidcIssuer(
        auth_pb2.AddOidcIssuerRequest(
            caller=admin,
            issuer=_registration(
                issuer,
                jwks_json="",
                jwks_uri=uri,
                team_claim_kind="teamId",
                team_claim="tid",
                project_claim="",
            ),
        )
    )
    answer = await server.ext_authz.Check(_check(issuer.token(tid=admin.team_id)))
    assert answer.status.code == 0, answer.denied_response.body
    headers = {h.header.key: h.header.value for h in answer.ok_response.headers}
    assert headers["x-tollgate-project-id"] == ""


async def test_registrations_are_checked(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server, admin, _ = await _setup(make_settings, auth_servers)
    issuer = Issuer()
    secret_jwks = json.dumps(
        {"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0", "alg": "HS256"}]}
    )
    for overrides, param in [
        ({"jwks_uri": "http://169.254.169.254/keys", "jwks_json": ""}, "jwksUri"),
        ({"jwks_uri": "https://x.example/keys"}, "jwksUri"),
        ({"jwks_json": "{}"}, "jwks"),
        ({"jwks_json": secret_jwks}, "jwks"),
        ({"team_claim_kind": "org"}, "claimMappings"),
        ({"audience": ""}, "audience"),
        ({"issuer": "http://127.0.0.1:8080"}, "issuer"),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await server.auth.AddOidcIssuer(
                auth_pb2.AddOidcIssuerRequest(
                    caller=admin, issuer=_registration(issuer, **overrides)
                )
            )
        details = error_details(caught.value)
        assert details.code is grpc.StatusCode.INVALID_ARGUMENT, overrides
        assert details.metadata["param"] == param, overrides
    listed = await server.auth.ListOidcIssuers(auth_pb2.ListOidcIssuersRequest(caller=admin))
    assert list(listed.issuers) == []
