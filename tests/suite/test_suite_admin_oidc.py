"""Tollgate's OIDC tokens through Envoy: issued over the admin API (or the CLI), published in
the discovery documents, and good for calling the gateway with the official OpenAI SDK."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import openai

from tests.support.admin import AdminSuite, admin_suite, new_tenant

__all__ = ["admin_suite"]

TOLLGATE = str(Path(sys.executable).parent / "tollgate")


def test_an_oidc_token_calls_the_gateway(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "oidc")
    issued = tenant.member.ok("POST", "/v1/oidc/token", json={"projectId": tenant.project_id})
    token = issued["token"]
    admin_suite.secrets.keys.append(token)  # looked for in the logs by the security tests
    assert issued["expiresAt"].endswith("Z")

    api = openai.OpenAI(base_url=admin_suite.stack.base_url, api_key=token, max_retries=0)
    reply = api.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hello"}]
    )
    assert reply.id.startswith("gen_")

    me = tenant.member.as_key(token).ok("GET", "/v1/me")
    assert me["authMethod"] == "oidc" and me["user"] is None and me["keyId"] is None
    assert (me["team"]["id"], me["projectId"]) == (tenant.team_id, tenant.project_id)
    # It calls the gateway; it does not administer it.
    refused = tenant.member.as_key(token).call("GET", "/v1/api-keys")
    assert refused.status_code == 403


def test_discovery_documents_verify_the_token(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "jwks")
    token = tenant.owner.ok("POST", "/v1/oidc/token", json={"projectId": tenant.project_id})[
        "token"
    ]
    config = httpx.get(f"{admin_suite.origin}/.well-known/openid-configuration").json()
    assert config["issuer"] == admin_suite.origin
    assert config["id_token_signing_alg_values_supported"] == ["ES256"]
    keys = httpx.get(config["jwks_uri"]).json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    [key] = [k for k in keys if k["kid"] == kid]
    claims = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["ES256"],
        audience="tollgate",
        issuer=config["issuer"],
    )
    assert claims["sub"] == f"team:{tenant.team_id}:project:{tenant.project_id}"


def test_bad_tokens_and_bad_requests_are_refused(admin_suite: AdminSuite) -> None:
    a, b = new_tenant(admin_suite, "oidca"), new_tenant(admin_suite, "oidcb")
    token = a.owner.ok("POST", "/v1/oidc/token", json={"projectId": a.project_id})["token"]
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(teamId=b.team_id, sub=f"team:{b.team_id}:project:{b.project_id}")
    claims["projectId"] = b.project_id
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    forged = f"{head}.{forged_payload}.{signature}"
    reply = httpx.get(
        f"{admin_suite.origin}/v1/models", headers={"authorization": f"Bearer {forged}"}
    )
    assert reply.status_code == 401
    assert reply.json()["error"]["type"] == "authentication_error"
    assert forged not in reply.text

    assert (
        a.viewer.call("POST", "/v1/oidc/token", json={"projectId": a.project_id}).status_code == 403
    )
    assert (
        a.owner.call("POST", "/v1/oidc/token", json={"projectId": b.project_id}).status_code == 404
    )
    other_team = {"projectId": b.project_id, "teamId": b.team_id}
    assert a.owner.call("POST", "/v1/oidc/token", json=other_team).status_code == 404
    missing = a.owner.call("POST", "/v1/oidc/token", json={})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "projectId"


def test_the_cli_prints_a_token_to_use(admin_suite: AdminSuite) -> None:
    tenant = new_tenant(admin_suite, "oidccli")
    env = {
        **os.environ,
        "TOLLGATE_BASE_URL": admin_suite.origin,
        "TOLLGATE_API_KEY": tenant.member.key,
    }
    done = subprocess.run(
        [TOLLGATE, "oidc", "token", "--project", "web"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    api = openai.OpenAI(base_url=admin_suite.stack.base_url, api_key=token, max_retries=0)
    assert api.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    ).id.startswith("gen_")


def test_a_trusted_issuers_token_calls_the_gateway(admin_suite: AdminSuite) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    a, b = new_tenant(admin_suite, "k8s"), new_tenant(admin_suite, "k8sb")
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = {**ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "cluster-1"}
    registration = {
        "issuer": "https://oidc.cluster.example",
        "jwks": {"keys": [jwk]},
        "audience": "tollgate",
        "claimMappings": {"teamSlug": "tollgate_team", "projectId": "tollgate_project"},
    }
    assert a.viewer.call("POST", "/v1/oidc/issuers", json=registration).status_code == 403
    added = a.owner.ok("POST", "/v1/oidc/issuers", 201, json=registration)
    assert (
        added["id"].startswith("iss_") and added["claimMappings"] == registration["claimMappings"]
    )
    assert [i["id"] for i in a.viewer.ok("GET", "/v1/oidc/issuers")["data"]] == [added["id"]]
    assert b.owner.ok("GET", "/v1/oidc/issuers")["data"] == []
    gone = b.owner.call("DELETE", f"/v1/oidc/issuers/{added['id']}")
    assert gone.status_code == 404

    now = int(time.time())
    claims = {
        "iss": "https://oidc.cluster.example",
        "aud": "tollgate",
        "sub": "system:serviceaccount:apps:web",
        "iat": now,
        "exp": now + 600,
        "tollgate_team": a.slug,
        "tollgate_project": a.project_id,
    }
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "cluster-1"})
    admin_suite.secrets.keys.append(token)
    api = openai.OpenAI(base_url=admin_suite.stack.base_url, api_key=token, max_retries=0)
    assert api.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    ).id.startswith("gen_")
    # The same issuer's token naming another team's slug is refused.
    foreign = jwt.encode(
        {**claims, "tollgate_team": b.slug, "tollgate_project": b.project_id},
        key,
        algorithm="ES256",
        headers={"kid": "cluster-1"},
    )
    reply = httpx.get(
        f"{admin_suite.origin}/v1/models", headers={"authorization": f"Bearer {foreign}"}
    )
    assert reply.status_code == 401

    bad = a.owner.call(
        "POST", "/v1/oidc/issuers", json={**registration, "claimMappings": {"org": "x"}}
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "claimMappings.org"
    a.owner.ok("DELETE", f"/v1/oidc/issuers/{added['id']}", 204)
