"""The ext_authz answers: identity headers on success, the OpenAI envelope on refusal."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2 as pb
from tollgate_auth.domain import AuthMethod, Principal, Role
from tollgate_auth.errors import InvalidApiKey, InvalidToken, MissingCredential
from tollgate_auth.ext_authz import (
    allowed,
    denied,
    forbidden,
    speaks_anthropic,
    unavailable,
    with_expiry,
)
from tollgate_auth.keys.credentials import jwt_expiry


def test_allowed_sets_identity_headers_and_strips_credentials() -> None:
    principal = Principal(
        team_id="team_1",
        team_slug="acme",
        user_id="user_1",
        role=Role.VIEWER,
        auth_method=AuthMethod.API_KEY,
        key_id="key_1",
    )
    response = allowed(principal)
    assert response.status.code == 0
    assert response.WhichOneof("http_response") == "ok_response"
    headers = {h.header.key: h.header.value for h in response.ok_response.headers}
    assert headers == {
        "x-tollgate-team-id": "team_1",
        "x-tollgate-team-slug": "acme",
        "x-tollgate-user-id": "user_1",
        "x-tollgate-key-id": "key_1",
        "x-tollgate-project-id": "",
        "x-tollgate-role": "viewer",
        "x-tollgate-auth-method": "api-key",
        "x-tollgate-operator": "false",
        "x-tollgate-permissions": "read",
    }
    assert {h.append_action for h in response.ok_response.headers} == {
        pb.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
    }
    assert set(response.ok_response.headers_to_remove) == {"authorization", "x-api-key"}


def test_an_operator_is_told_to_the_edge_with_the_actions_it_adds() -> None:
    principal = Principal(
        team_id="team_1",
        team_slug="acme",
        user_id="user_1",
        role=Role.VIEWER,
        auth_method=AuthMethod.API_KEY,
        key_id="key_1",
        operator=True,
    )
    headers = {h.header.key: h.header.value for h in allowed(principal).ok_response.headers}
    assert headers["x-tollgate-operator"] == "true"
    assert headers["x-tollgate-permissions"] == "read,credits:top-up,operators"


def _envelope(response: pb.CheckResponse) -> dict[str, object]:
    body = json.loads(response.denied_response.body)
    assert set(body) == {"error"}
    error: dict[str, object] = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] is None
    return error


def test_denied_is_a_401_with_the_openai_envelope() -> None:
    response = denied(InvalidApiKey())
    assert response.status.code == 16
    assert response.denied_response.status.code == 401
    headers = {h.header.key: h.header.value for h in response.denied_response.headers}
    assert headers == {"content-type": "application/json", "www-authenticate": "Bearer"}
    error = _envelope(response)
    assert error["type"] == "authentication_error"
    assert error["code"] == "invalid_api_key"


def test_missing_and_oidc_codes() -> None:
    missing = _envelope(denied(MissingCredential()))
    assert missing["code"] == "missing_api_key"
    assert "API key is required" in str(missing["message"])
    assert _envelope(denied(InvalidToken()))["code"] == "invalid_token"


def test_unavailable_is_a_503() -> None:
    response = unavailable()
    assert response.status.code == 14
    assert response.denied_response.status.code == 503
    assert _envelope(response)["type"] == "service_unavailable"


def test_the_messages_api_paths_get_anthropics_envelope() -> None:
    assert speaks_anthropic("/v1/messages") and speaks_anthropic("/v1/messages/count_tokens")
    assert speaks_anthropic("/v1/messages?beta=true")
    assert not speaks_anthropic("/v1/messages-x") and not speaks_anthropic("/v1/chat/completions")
    refused = json.loads(denied(InvalidApiKey(), anthropic=True).denied_response.body)
    assert refused == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "Incorrect API key provided."},
    }
    down = json.loads(unavailable(anthropic=True).denied_response.body)
    assert down["type"] == "error" and down["error"]["type"] == "overloaded_error"


def test_a_viewer_refused_on_the_messages_api_gets_a_permission_error() -> None:
    viewer = Principal(
        team_id="team_1",
        team_slug="acme",
        user_id="user_1",
        role=Role.VIEWER,
        auth_method=AuthMethod.API_KEY,
        key_id="key_1",
    )
    refused = json.loads(forbidden(viewer, anthropic=True).denied_response.body)
    assert refused["error"]["type"] == "permission_error"


def test_an_expiring_credential_says_when_in_the_answer_only() -> None:
    """The edge caches an answer no longer than its credential lives: auth says until when
    (``dynamic_metadata``), without touching the answer it reuses for the principal."""
    principal = Principal(
        team_id="team_1",
        team_slug="acme",
        user_id="user_1",
        role=Role.MEMBER,
        auth_method=AuthMethod.API_KEY,
        key_id="key_1",
    )
    shared = allowed(principal)
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    answer = with_expiry(shared, expires)
    assert answer.dynamic_metadata["expiresAt"] == expires.timestamp()
    assert answer.ok_response == shared.ok_response
    assert "expiresAt" not in shared.dynamic_metadata


def test_a_verified_tokens_expiry_is_its_exp_claim() -> None:
    def token(claims: dict[str, object]) -> str:
        def part(value: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

        return f"{part({'alg': 'ES256'})}.{part(claims)}.c2ln"

    assert jwt_expiry(token({"exp": 1_900_000_000})) == datetime.fromtimestamp(1_900_000_000, UTC)
    assert jwt_expiry(token({"sub": "x"})) is None
    assert jwt_expiry(token({"exp": "soon"})) is None
    assert jwt_expiry(token({"exp": 1e300})) is None
    assert jwt_expiry("not-a-jwt") is None
