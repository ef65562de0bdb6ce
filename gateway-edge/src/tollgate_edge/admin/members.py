"""``/v1/teams/{teamId}/members[/{userId}]``; deleting one's own membership is leaving."""

from __future__ import annotations

from typing import Final

from aiohttp import web
from tollgate.auth.v1 import auth_pb2

from tollgate_edge.admin import shapes
from tollgate_edge.admin.body import Field, Kind, read_object
from tollgate_edge.admin.calls import auth, caller, page, role, rpc_options
from tollgate_edge.responses import json_response

ADD_MEMBER: Final = {
    "email": Field(Kind.STRING, required=True),
    "role": Field(Kind.STRING, required=True),
}
UPDATE_MEMBER: Final = {"role": Field(Kind.STRING, required=True)}


async def list_members(request: web.Request) -> web.Response:
    reply = await auth(request).ListMembers(
        auth_pb2.ListMembersRequest(
            caller=caller(request), team_id=request.match_info["teamId"], page=page(request)
        ),
        **rpc_options(request),
    )
    return json_response(
        shapes.page([shapes.member(m) for m in reply.members], reply.next_page_token)
    )


async def add_member(request: web.Request) -> web.Response:
    who = caller(request)
    body = await read_object(request, ADD_MEMBER)
    reply = await auth(request).AddMember(
        auth_pb2.AddMemberRequest(
            caller=who,
            team_id=request.match_info["teamId"],
            email=body["email"],
            role=role(body["role"]),
        ),
        **rpc_options(request),
    )
    return json_response(shapes.member(reply.member), 201)


async def update_member(request: web.Request) -> web.Response:
    who = caller(request)
    body = await read_object(request, UPDATE_MEMBER)
    reply = await auth(request).UpdateMember(
        auth_pb2.UpdateMemberRequest(
            caller=who,
            team_id=request.match_info["teamId"],
            user_id=request.match_info["userId"],
            role=role(body["role"]),
        ),
        **rpc_options(request),
    )
    return json_response(shapes.member(reply.member))


async def remove_member(request: web.Request) -> web.Response:
    await auth(request).RemoveMember(
        auth_pb2.RemoveMemberRequest(
            caller=caller(request),
            team_id=request.match_info["teamId"],
            user_id=request.match_info["userId"],
        ),
        **rpc_options(request),
    )
    return web.Response(status=204)
