"""``POST /v1/oidc/token`` and the public discovery documents of Tollgate's OIDC tokens:
``/.well-known/openid-configuration`` and ``/.well-known/jwks.json`` (no credential needed)."""

from __future__ import annotations

from typing import Final

import orjson
from aiohttp import web
from tollgate.auth.v1 import auth_pb2

from tollgate_edge.admin.body import Field, Kind, read_object
from tollgate_edge.admin.calls import auth, caller, rpc_options
from tollgate_edge.lookup import iso_utc
from tollgate_edge.responses import JSON, json_response

ISSUE_TOKEN: Final = {
    "projectId": Field(Kind.STRING, required=True),
    "teamId": Field(Kind.STRING, nullable=True),
}
# Public, changing only on a key rotation: clients may cache them briefly.
_CACHE: Final = {"Cache-Control": "public, max-age=300"}


async def issue_token(request: web.Request) -> web.Response:
    who = caller(request)
    body = await read_object(request, ISSUE_TOKEN)
    reply = await auth(request).IssueOidcToken(
        auth_pb2.IssueOidcTokenRequest(
            caller=who, team_id=body.get("teamId", ""), project_id=body["projectId"]
        ),
        **rpc_options(request),
    )
    return json_response({"token": reply.token, "expiresAt": iso_utc(reply.expires_at)})


async def _jwks(request: web.Request) -> auth_pb2.GetJwksResponse:
    return await auth(request).GetJwks(auth_pb2.GetJwksRequest(), **rpc_options(request))


async def jwks(request: web.Request) -> web.Response:
    reply = await _jwks(request)
    return web.Response(body=reply.jwks_json.encode(), content_type=JSON, headers=_CACHE)


async def openid_configuration(request: web.Request) -> web.Response:
    issuer = (await _jwks(request)).issuer
    document = {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": ["iss", "aud", "sub", "iat", "exp", "teamId", "projectId"],
    }
    return web.Response(body=orjson.dumps(document), content_type=JSON, headers=_CACHE)
