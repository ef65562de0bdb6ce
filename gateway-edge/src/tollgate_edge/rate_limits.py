"""``/v1/rate-limits`` (docs/billing.md, Rate limits): requests and tokens per minute and
concurrent requests per team, project or API key, kept and enforced by billing. Owners set and
remove them (the ``budgets`` permission, as for budgets); any member of the team reads them. A
project or key id of another team is a 404, like an unknown one."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web
from tollgate.billing.v1 import billing_pb2

from tollgate_edge.admin.calls import rpc_options
from tollgate_edge.admin.permissions import require
from tollgate_edge.budgets import MANAGE_BUDGETS, belongs_to_team, scope_path
from tollgate_edge.errors import invalid_request, not_found
from tollgate_edge.identity import caller_of
from tollgate_edge.json_body import json_object
from tollgate_edge.lookup import iso_utc
from tollgate_edge.peers import PEERS
from tollgate_edge.responses import json_response

# The body's fields and the request message's, in the order the API lists them.
FIELDS: Final = {
    "requestsPerMinute": "requests_per_minute",
    "tokensPerMinute": "tokens_per_minute",
    "concurrentRequests": "concurrent_requests",
}


def rate_limit_object(limit: billing_pb2.RateLimit) -> dict[str, Any]:
    """A limit as the API shows it: an unset dimension is ``null``."""
    found: dict[str, Any] = {"scope": limit.scope, "id": limit.scope_id}
    for name, field in FIELDS.items():
        found[name] = getattr(limit, field) or None
    found["createdAt"] = iso_utc(limit.created_at)
    found["updatedAt"] = iso_utc(limit.updated_at)
    return found


def _numbers(data: dict[str, Any]) -> dict[str, int]:
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise invalid_request(f"unknown field `{unknown[0]}`", unknown[0])
    numbers: dict[str, int] = {}
    for name, field in FIELDS.items():
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise invalid_request(f"`{name}` must be a positive integer", name)
        numbers[field] = value
    if not numbers:
        raise invalid_request(
            "set at least one of `requestsPerMinute`, `tokensPerMinute`, `concurrentRequests`",
            "requestsPerMinute",
        )
    return numbers


async def list_rate_limits(request: web.Request) -> web.Response:
    who = caller_of(request)
    reply = await request.app[PEERS].billing.ListRateLimits(
        billing_pb2.ListRateLimitsRequest(team_id=who.team_id), **rpc_options(request)
    )
    return json_response({"data": [rate_limit_object(limit) for limit in reply.rate_limits]})


async def put_rate_limit(request: web.Request) -> web.Response:
    require(request, MANAGE_BUDGETS)
    who = caller_of(request)
    scope, scope_id = scope_path(request)
    numbers = _numbers(json_object(await request.read()))
    if not await belongs_to_team(request, who, scope, scope_id):
        raise not_found(f"no {scope} {scope_id} in this team")
    reply = await request.app[PEERS].billing.PutRateLimit(
        billing_pb2.PutRateLimitRequest(
            team_id=who.team_id,
            scope=scope,
            scope_id=scope_id,
            actor_id=who.user_id,
            **numbers,
        ),
        **rpc_options(request),
    )
    return json_response(rate_limit_object(reply.rate_limit), 201 if reply.created else 200)


async def delete_rate_limit(request: web.Request) -> web.Response:
    require(request, MANAGE_BUDGETS)
    who = caller_of(request)
    scope, scope_id = scope_path(request)
    await request.app[PEERS].billing.DeleteRateLimit(
        billing_pb2.DeleteRateLimitRequest(
            team_id=who.team_id, scope=scope, scope_id=scope_id, actor_id=who.user_id
        ),
        **rpc_options(request),
    )
    return web.Response(status=204)


def register(app: web.Application) -> None:
    app.router.add_get("/v1/rate-limits", list_rate_limits, allow_head=False)
    app.router.add_put("/v1/rate-limits/{scope}/{id}", put_rate_limit)
    app.router.add_delete("/v1/rate-limits/{scope}/{id}", delete_rate_limit)
