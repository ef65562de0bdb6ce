"""``/v1/budgets`` (docs/billing.md): caps per team, project or API key and UTC day or
month, kept and enforced by billing. Owners set and remove them (``budgets``); any member of
the team reads them. A project or key id of another team is a 404, like an unknown one."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web
from tollgate.auth.v1 import auth_pb2
from tollgate.billing.v1 import billing_pb2

from tollgate_edge.admin.calls import auth, caller, rpc_options
from tollgate_edge.admin.permissions import require
from tollgate_edge.credits import amount_text
from tollgate_edge.errors import invalid_request, not_found
from tollgate_edge.identity import Caller, caller_of
from tollgate_edge.json_body import json_object
from tollgate_edge.lookup import iso_utc
from tollgate_edge.peers import PEERS
from tollgate_edge.responses import json_response

MANAGE_BUDGETS: Final = "budgets"
SCOPES: Final = ("team", "project", "key")
PERIODS: Final = ("day", "month")
_PAGE_SIZE: Final = 200


def budget_object(budget: billing_pb2.Budget) -> dict[str, Any]:
    return {
        "scope": budget.scope,
        "id": budget.scope_id,
        "amount": budget.amount,
        "period": budget.period,
        "hard": budget.hard,
        "spent": budget.spent,
        "periodStart": iso_utc(budget.period_start),
        "createdAt": iso_utc(budget.created_at),
        "updatedAt": iso_utc(budget.updated_at),
    }


def _budget_body(data: dict[str, Any]) -> tuple[str, str, bool]:
    unknown = sorted(set(data) - {"amount", "period", "hard"})
    if unknown:
        raise invalid_request(f"unknown field `{unknown[0]}`", unknown[0])
    if "amount" not in data:
        raise invalid_request("`amount` is required", "amount")
    period = data.get("period")
    if period not in PERIODS:
        raise invalid_request("`period` must be `day` or `month`", "period")
    hard = data.get("hard", True)
    if not isinstance(hard, bool):
        raise invalid_request("`hard` must be a boolean", "hard")
    return amount_text(data["amount"]), str(period), hard


async def belongs_to_team(request: web.Request, who: Caller, scope: str, scope_id: str) -> bool:
    """Whether ``scope_id`` is the caller's team, one of its projects or one of its keys."""
    if scope == "team":
        return scope_id == who.team_id
    stub, token = auth(request), ""
    while True:
        page = auth_pb2.PageRequest(page_size=_PAGE_SIZE, page_token=token)
        if scope == "project":
            projects = await stub.ListProjects(
                auth_pb2.ListProjectsRequest(
                    caller=caller(request), team_id=who.team_id, page=page
                ),
                **rpc_options(request),
            )
            ids, token = [p.id for p in projects.projects], projects.next_page_token
        else:
            keys = await stub.ListApiKeys(
                auth_pb2.ListApiKeysRequest(caller=caller(request), team_id=who.team_id, page=page),
                **rpc_options(request),
            )
            ids, token = [k.id for k in keys.api_keys], keys.next_page_token
        if scope_id in ids:
            return True
        if not token:
            return False


def scope_path(request: web.Request) -> tuple[str, str]:
    scope, scope_id = request.match_info["scope"], request.match_info["id"]
    if scope not in SCOPES:
        raise invalid_request("the scope must be `team`, `project` or `key`", "scope")
    return scope, scope_id


async def list_budgets(request: web.Request) -> web.Response:
    who = caller_of(request)
    reply = await request.app[PEERS].billing.ListBudgets(
        billing_pb2.ListBudgetsRequest(team_id=who.team_id), **rpc_options(request)
    )
    return json_response({"data": [budget_object(b) for b in reply.budgets]})


async def put_budget(request: web.Request) -> web.Response:
    require(request, MANAGE_BUDGETS)
    who = caller_of(request)
    scope, scope_id = scope_path(request)
    amount, period, hard = _budget_body(json_object(await request.read()))
    if not await belongs_to_team(request, who, scope, scope_id):
        raise not_found(f"no {scope} {scope_id} in this team")
    reply = await request.app[PEERS].billing.PutBudget(
        billing_pb2.PutBudgetRequest(
            team_id=who.team_id,
            scope=scope,
            scope_id=scope_id,
            amount=amount,
            period=period,
            hard=hard,
            actor_id=who.user_id,
        ),
        **rpc_options(request),
    )
    return json_response(budget_object(reply.budget), 201 if reply.created else 200)


async def delete_budget(request: web.Request) -> web.Response:
    require(request, MANAGE_BUDGETS)
    who = caller_of(request)
    scope, scope_id = scope_path(request)
    await request.app[PEERS].billing.DeleteBudget(
        billing_pb2.DeleteBudgetRequest(
            team_id=who.team_id, scope=scope, scope_id=scope_id, actor_id=who.user_id
        ),
        **rpc_options(request),
    )
    return web.Response(status=204)


def register(app: web.Application) -> None:
    app.router.add_get("/v1/budgets", list_budgets, allow_head=False)
    app.router.add_put("/v1/budgets/{scope}/{id}", put_budget)
    app.router.add_delete("/v1/budgets/{scope}/{id}", delete_budget)
