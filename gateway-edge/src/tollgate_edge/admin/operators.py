"""``/v1/operators[/{userId}]``: the installation's operators, managed by operators."""

from __future__ import annotations

from aiohttp import web
from tollgate.auth.v1 import auth_pb2

from tollgate_edge.admin import shapes
from tollgate_edge.admin.calls import auth, caller, rpc_options
from tollgate_edge.responses import json_response


async def list_operators(request: web.Request) -> web.Response:
    reply = await auth(request).ListOperators(
        auth_pb2.ListOperatorsRequest(caller=caller(request)), **rpc_options(request)
    )
    return json_response(shapes.page([shapes.operator(o) for o in reply.operators], ""))


async def put_operator(request: web.Request) -> web.Response:
    """Make a user an operator: 201 when they became one, 200 when they were one already."""
    reply = await auth(request).SetOperator(
        auth_pb2.SetOperatorRequest(caller=caller(request), user_id=request.match_info["userId"]),
        **rpc_options(request),
    )
    return json_response(shapes.operator(reply.operator), 201 if reply.created else 200)


async def delete_operator(request: web.Request) -> web.Response:
    await auth(request).RemoveOperator(
        auth_pb2.RemoveOperatorRequest(
            caller=caller(request), user_id=request.match_info["userId"]
        ),
        **rpc_options(request),
    )
    return web.Response(status=204)
