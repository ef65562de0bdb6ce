"""``/v1/oidc/issuers[/{id}]``: external issuers whose tokens a team trusts."""

from __future__ import annotations

from typing import Any, Final

import orjson
from aiohttp import web
from tollgate.auth.v1 import auth_pb2

from tollgate_edge.admin.body import Field, Kind, read_object
from tollgate_edge.admin.calls import auth, caller, iso_or_none, rpc_options
from tollgate_edge.admin.shapes import page
from tollgate_edge.errors import invalid_request
from tollgate_edge.responses import json_response

ADD_ISSUER: Final = {
    "issuer": Field(Kind.STRING, required=True),
    "jwksUri": Field(Kind.STRING, nullable=True),
    "jwks": Field(Kind.OBJECT, nullable=True),
    "audience": Field(Kind.STRING, required=True),
    "claimMappings": Field(Kind.OBJECT, required=True),
}
_MAPPING_KEYS: Final = frozenset({"teamId", "teamSlug", "projectId"})


def issuer_object(message: auth_pb2.OidcIssuer) -> dict[str, Any]:
    mappings = {message.team_claim_kind: message.team_claim}
    if message.project_claim:
        mappings["projectId"] = message.project_claim
    return {
        "id": message.id,
        "issuer": message.issuer,
        "jwksUri": message.jwks_uri or None,
        "jwks": orjson.loads(message.jwks_json) if message.jwks_json else None,
        "audience": message.audience,
        "claimMappings": mappings,
        "createdAt": iso_or_none(message, "created_at"),
    }


def _mappings(raw: dict[str, Any]) -> tuple[str, str, str]:
    """(``teamId``/``teamSlug``, its claim, the project claim or "")."""
    for name, value in raw.items():
        if name not in _MAPPING_KEYS:
            raise invalid_request(f"unknown field `claimMappings.{name}`", f"claimMappings.{name}")
        if not isinstance(value, str):
            raise invalid_request(
                f"`claimMappings.{name}` must be a claim name", f"claimMappings.{name}"
            )
    kinds = [k for k in ("teamId", "teamSlug") if k in raw]
    if len(kinds) != 1:
        raise invalid_request(
            "`claimMappings` must name the claim of `teamId` or of `teamSlug`", "claimMappings"
        )
    return kinds[0], raw[kinds[0]], raw.get("projectId", "")


async def list_issuers(request: web.Request) -> web.Response:
    reply = await auth(request).ListOidcIssuers(
        auth_pb2.ListOidcIssuersRequest(
            caller=caller(request), team_id=request.query.get("teamId", "")
        ),
        **rpc_options(request),
    )
    return json_response(page([issuer_object(i) for i in reply.issuers], ""))


async def add_issuer(request: web.Request) -> web.Response:
    who = caller(request)
    body = await read_object(request, ADD_ISSUER)
    kind, team_claim, project_claim = _mappings(body["claimMappings"])
    jwks = body.get("jwks")
    reply = await auth(request).AddOidcIssuer(
        auth_pb2.AddOidcIssuerRequest(
            caller=who,
            team_id=request.query.get("teamId", ""),
            issuer=auth_pb2.OidcIssuer(
                issuer=body["issuer"],
                jwks_uri=body.get("jwksUri", ""),
                jwks_json=orjson.dumps(jwks).decode() if jwks is not None else "",
                audience=body["audience"],
                team_claim_kind=kind,
                team_claim=team_claim,
                project_claim=project_claim,
            ),
        ),
        **rpc_options(request),
    )
    return json_response(issuer_object(reply.issuer), 201)


async def delete_issuer(request: web.Request) -> web.Response:
    await auth(request).DeleteOidcIssuer(
        auth_pb2.DeleteOidcIssuerRequest(
            caller=caller(request),
            team_id=request.query.get("teamId", ""),
            issuer_id=request.match_info["issuerId"],
        ),
        **rpc_options(request),
    )
    return web.Response(status=204)
