"""``/v1/api-keys[/{keyId}]``: the key itself appears only in the answer to its creation."""

from __future__ import annotations

from typing import Final

from aiohttp import web
from tollgate.auth.v1 import auth_pb2

from tollgate_edge.admin import shapes
from tollgate_edge.admin.body import Field, Kind, query_bool, read_object
from tollgate_edge.admin.calls import auth, caller, page, rpc_options, timestamp
from tollgate_edge.responses import json_response

CREATE_KEY: Final = {
    "name": Field(Kind.STRING, required=True),
    "teamId": Field(Kind.STRING, nullable=True),
    "projectId": Field(Kind.STRING, nullable=True),
    "userId": Field(Kind.STRING, nullable=True),
    "expiresAt": Field(Kind.TIMESTAMP, nullable=True),
}


async def list_api_keys(request: web.Request) -> web.Response:
    reply = await auth(request).ListApiKeys(
        auth_pb2.ListApiKeysRequest(
            caller=caller(request),
            team_id=request.query.get("teamId", ""),
            include_revoked=query_bool(request, "includeRevoked"),
            page=page(request),
        ),
        **rpc_options(request),
    )
    return json_response(
        shapes.page([shapes.api_key(k) for k in reply.api_keys], reply.next_page_token)
    )


async def create_api_key(request: web.Request) -> web.Response:
    who = caller(request)
    body = await read_object(request, CREATE_KEY)
    expires_at = body.get("expiresAt")
    reply = await auth(request).CreateApiKey(
        auth_pb2.CreateApiKeyRequest(
            caller=who,
            name=body["name"],
            team_id=body.get("teamId", ""),
            project_id=body.get("projectId", ""),
            user_id=body.get("userId", ""),
            expires_at=timestamp(expires_at) if expires_at is not None else None,
        ),
        **rpc_options(request),
    )
    created = shapes.api_key(reply.api_key)
    created["key"] = reply.key
    return json_response(created, 201)


async def revoke_api_key(request: web.Request) -> web.Response:
    await auth(request).RevokeApiKey(
        auth_pb2.RevokeApiKeyRequest(caller=caller(request), key_id=request.match_info["keyId"]),
        **rpc_options(request),
    )
    return web.Response(status=204)
