"""``/v1/byok[/{provider}]``: a team's BYOK credentials. The secret goes in, never out: answers
carry a hint (its last 4 characters) only."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web
from tollgate.auth.v1 import auth_pb2

from tollgate_edge.admin import shapes
from tollgate_edge.admin.body import Field, Kind, read_object
from tollgate_edge.admin.calls import auth, caller, rpc_options
from tollgate_edge.errors import invalid_request
from tollgate_edge.responses import json_response

PUT_CREDENTIAL: Final = {
    "credentials": Field(Kind.OBJECT, required=True),
    "enabled": Field(Kind.BOOLEAN),
}
PATCH_CREDENTIAL: Final = {"enabled": Field(Kind.BOOLEAN, required=True)}


def _strings(credentials: dict[str, Any]) -> dict[str, str]:
    for name, value in credentials.items():
        if not isinstance(value, str):
            raise invalid_request(f"`credentials.{name}` must be a string", f"credentials.{name}")
    return credentials


async def list_byok(request: web.Request) -> web.Response:
    reply = await auth(request).ListByokCredentials(
        auth_pb2.ListByokCredentialsRequest(
            caller=caller(request), team_id=request.query.get("teamId", "")
        ),
        **rpc_options(request),
    )
    return json_response(shapes.page([shapes.byok_credential(c) for c in reply.credentials], ""))


async def put_byok(request: web.Request) -> web.Response:
    who = caller(request)
    body = await read_object(request, PUT_CREDENTIAL)
    reply = await auth(request).PutByokCredential(
        auth_pb2.PutByokCredentialRequest(
            caller=who,
            team_id=request.query.get("teamId", ""),
            provider=request.match_info["provider"],
            credentials=_strings(body["credentials"]),
            enabled=body.get("enabled"),
        ),
        **rpc_options(request),
    )
    return json_response(shapes.byok_credential(reply.credential), 201 if reply.created else 200)


async def patch_byok(request: web.Request) -> web.Response:
    who = caller(request)
    body = await read_object(request, PATCH_CREDENTIAL)
    reply = await auth(request).UpdateByokCredential(
        auth_pb2.UpdateByokCredentialRequest(
            caller=who,
            team_id=request.query.get("teamId", ""),
            provider=request.match_info["provider"],
            enabled=body["enabled"],
        ),
        **rpc_options(request),
    )
    return json_response(shapes.byok_credential(reply.credential))


async def delete_byok(request: web.Request) -> web.Response:
    await auth(request).DeleteByokCredential(
        auth_pb2.DeleteByokCredentialRequest(
            caller=caller(request),
            team_id=request.query.get("teamId", ""),
            provider=request.match_info["provider"],
        ),
        **rpc_options(request),
    )
    return web.Response(status=204)
