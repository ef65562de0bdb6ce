"""``/v1/me`` and ``/v1/teams[/{teamId}]``."""

from __future__ import annotations

from typing import Final

from aiohttp import web
from tollgate.auth.v1 import auth_pb2
from tollgate.billing.v1 import billing_pb2

from tollgate_edge.admin import shapes
from tollgate_edge.admin.body import Field, Kind, read_object
from tollgate_edge.admin.calls import auth, caller, page, rpc_options
from tollgate_edge.errors import invalid_request
from tollgate_edge.peers import PEERS
from tollgate_edge.responses import json_response

CREATE_TEAM: Final = {
    "slug": Field(Kind.STRING, required=True),
    "name": Field(Kind.STRING, required=True),
}
UPDATE_TEAM: Final = {"slug": Field(Kind.STRING), "name": Field(Kind.STRING)}


async def get_me(request: web.Request) -> web.Response:
    reply = await auth(request).GetMe(
        auth_pb2.GetMeRequest(caller=caller(request)), **rpc_options(request)
    )
    return json_response(shapes.me(reply))


async def list_teams(request: web.Request) -> web.Response:
    reply = await auth(request).ListTeams(
        auth_pb2.ListTeamsRequest(caller=caller(request), page=page(request)),
        **rpc_options(request),
    )
    return json_response(shapes.page([shapes.team(t) for t in reply.teams], reply.next_page_token))


async def create_team(request: web.Request) -> web.Response:
    """The auth service creates the team and decides whether it collects the free tier (one per
    user); billing learns it before anyone can use the team: the answer waits for billing, and
    a team billing could not be told about is deleted again (docs/billing.md, "Free tier")."""
    who = caller(request)
    body = await read_object(request, CREATE_TEAM)
    reply = await auth(request).CreateTeam(
        auth_pb2.CreateTeamRequest(caller=who, slug=body["slug"], name=body["name"]),
        **rpc_options(request),
    )
    if not reply.team.free_tier:
        try:
            await request.app[PEERS].billing.SetFreeTier(
                billing_pb2.SetFreeTierRequest(team_id=reply.team.id, eligible=False),
                **rpc_options(request),
            )
        except Exception:
            await auth(request).DeleteTeam(
                auth_pb2.DeleteTeamRequest(caller=who, team_id=reply.team.id),
                **rpc_options(request),
            )
            raise
    return json_response(shapes.team(reply.team), 201)


async def get_team(request: web.Request) -> web.Response:
    reply = await auth(request).GetTeam(
        auth_pb2.GetTeamRequest(caller=caller(request), team_id=request.match_info["teamId"]),
        **rpc_options(request),
    )
    return json_response(shapes.team(reply.team))


async def update_team(request: web.Request) -> web.Response:
    who = caller(request)
    body = await read_object(request, UPDATE_TEAM)
    if not body:
        raise invalid_request("give `slug`, `name` or both")
    reply = await auth(request).UpdateTeam(
        auth_pb2.UpdateTeamRequest(caller=who, team_id=request.match_info["teamId"], **body),
        **rpc_options(request),
    )
    return json_response(shapes.team(reply.team))


async def delete_team(request: web.Request) -> web.Response:
    await auth(request).DeleteTeam(
        auth_pb2.DeleteTeamRequest(caller=caller(request), team_id=request.match_info["teamId"]),
        **rpc_options(request),
    )
    return web.Response(status=204)
