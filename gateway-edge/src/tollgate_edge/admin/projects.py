"""``/v1/teams/{teamId}/projects[/{projectId}]``."""

from __future__ import annotations

from typing import Final

from aiohttp import web
from tollgate.auth.v1 import auth_pb2

from tollgate_edge.admin import shapes
from tollgate_edge.admin.body import Field, Kind, read_object
from tollgate_edge.admin.calls import auth, caller, page, rpc_options
from tollgate_edge.responses import json_response

CREATE_PROJECT: Final = {"name": Field(Kind.STRING, required=True)}


async def list_projects(request: web.Request) -> web.Response:
    reply = await auth(request).ListProjects(
        auth_pb2.ListProjectsRequest(
            caller=caller(request), team_id=request.match_info["teamId"], page=page(request)
        ),
        **rpc_options(request),
    )
    return json_response(
        shapes.page([shapes.project(p) for p in reply.projects], reply.next_page_token)
    )


async def create_project(request: web.Request) -> web.Response:
    who = caller(request)
    body = await read_object(request, CREATE_PROJECT)
    reply = await auth(request).CreateProject(
        auth_pb2.CreateProjectRequest(
            caller=who, team_id=request.match_info["teamId"], name=body["name"]
        ),
        **rpc_options(request),
    )
    return json_response(shapes.project(reply.project), 201)


async def delete_project(request: web.Request) -> web.Response:
    await auth(request).DeleteProject(
        auth_pb2.DeleteProjectRequest(
            caller=caller(request),
            team_id=request.match_info["teamId"],
            project_id=request.match_info["projectId"],
        ),
        **rpc_options(request),
    )
    return web.Response(status=204)
