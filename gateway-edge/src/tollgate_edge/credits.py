"""``GET /v1/credits``, ``POST /v1/credits/top-up``, ``POST /v1/credits/adjustments``,
``POST /v1/credits/payment-hook`` and ``GET /v1/credits/unsettled`` (docs/billing.md,
docs/admin-api.md): the caller's team's balance and lifetime usage, as decimal strings; credit
granted by an operator (top-ups, refunds, adjustments, to any team) or bought through the
payment hook; holds that expired without being given back."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any, Final

from aiohttp import web
from tollgate.auth.v1 import auth_pb2
from tollgate.billing.v1 import billing_pb2

from tollgate_edge.admin.calls import auth, caller, rpc_options
from tollgate_edge.admin.permissions import require
from tollgate_edge.errors import ApiError, invalid_request
from tollgate_edge.identity import caller_of
from tollgate_edge.json_body import json_object
from tollgate_edge.lookup import iso_utc
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata
from tollgate_edge.responses import json_response

GRANT: Final = "credits:top-up"  # operators only (docs/permissions.md)
IDEMPOTENCY_HEADER = "Idempotency-Key"
_MAX_KEY = 150
_CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal(10) ** 9


def credits_object(credits: billing_pb2.Credits) -> dict[str, str]:
    return {"balance": credits.balance, "total_used": credits.total_used}


def amount_text(raw: Any, param: str = "amount", *, signed: bool = False) -> str:
    """A decimal string or JSON number with at most 2 decimals, below 1,000,000,000 in size:
    positive, or (``signed``) any sign but zero. Anything else is a 400 naming ``param``."""
    kind = "a non-zero signed decimal" if signed else "a positive decimal"
    problem = f"`{param}` must be {kind} (a string or a number) with at most 2 decimals"
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise invalid_request(problem, param)
    try:
        # A JSON number arrives as a float: its shortest repr is the literal the client sent.
        value = Decimal(raw.strip() if isinstance(raw, str) else repr(raw))
    except InvalidOperation:
        raise invalid_request(problem, param) from None
    if not value.is_finite() or not value or (value < 0 and not signed):
        raise invalid_request(problem, param)
    if abs(value) >= _MAX_AMOUNT:
        raise invalid_request(f"`{param}` must be below 1000000000 in size", param)
    if value != value.quantize(_CENT, rounding=ROUND_DOWN):
        raise invalid_request(problem, param)
    return format(value, "f")


def team_id_of(data: dict[str, Any]) -> str:
    """The optional ``teamId`` of a body (empty: the caller's team)."""
    team_id = data.get("teamId", "")
    if not isinstance(team_id, str):
        raise invalid_request("`teamId` must be a string", "teamId")
    return team_id


async def granted_team(request: web.Request, team_id: str) -> str:
    """The team an operator grants credit to (``team_id``, else the caller's). Callers check
    the header first (``require(request, GRANT)``: not an operator at all, 403 before the body is
    read); the auth service then checks the privilege in its database (403) and that the team
    exists (404)."""
    reply = await auth(request).AuthorizeCreditGrant(
        auth_pb2.AuthorizeCreditGrantRequest(caller=caller(request), team_id=team_id),
        **rpc_options(request),
    )
    return reply.team_id


async def get_credits(request: web.Request) -> web.Response:
    caller = caller_of(request)
    reply = await request.app[PEERS].billing.GetCredits(
        billing_pb2.GetCreditsRequest(team_id=caller.team_id),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response(credits_object(reply.credits))


async def top_up(request: web.Request) -> web.Response:
    """Credit granted by an operator to any team (``teamId``; default the caller's). Users buy
    credit through the payment hook instead (see :mod:`tollgate_edge.payment_hook`)."""
    require(request, GRANT)
    data = json_object(await request.read())
    amount = amount_text(data.get("amount"))
    team_id = team_id_of(data)
    key = request.headers.get(IDEMPOTENCY_HEADER, "")
    if len(key) > _MAX_KEY or not key.isprintable():
        raise invalid_request(f"`{IDEMPOTENCY_HEADER}` must be printable, at most {_MAX_KEY}")
    team_id = await granted_team(request, team_id)
    reply = await request.app[PEERS].billing.TopUp(
        billing_pb2.TopUpRequest(
            team_id=team_id,
            amount=amount,
            idempotency_key=key,
            actor_type="user",
            actor_id=caller_of(request).user_id,
        ),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response(credits_object(reply.credits))


_ADJUSTMENT_FIELDS: Final = frozenset(
    {"amount", "reason", "idempotencyKey", "kind", "allowNegative", "teamId"}
)
_MAX_REASON: Final = 500


async def adjust(request: web.Request) -> web.Response:
    """A refund or an operator's correction to any team (``teamId``; default the caller's): a
    signed ledger entry, idempotent per key, that never takes the balance below zero unless
    ``allowNegative`` (then 409 ``conflict``)."""
    require(request, GRANT)
    who = caller_of(request)
    data = json_object(await request.read())
    unknown = sorted(set(data) - _ADJUSTMENT_FIELDS)
    if unknown:
        raise invalid_request(f"unknown field `{unknown[0]}`", unknown[0])
    amount = amount_text(data.get("amount"), signed=True)
    reason, key = data.get("reason"), data.get("idempotencyKey")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > _MAX_REASON:
        raise invalid_request(f"`reason` is required: a string of at most {_MAX_REASON}", "reason")
    if not isinstance(key, str) or not key or len(key) > _MAX_KEY or not key.isprintable():
        raise invalid_request(
            f"`idempotencyKey` is required: printable, at most {_MAX_KEY}", "idempotencyKey"
        )
    kind = data.get("kind", "adjustment")
    if kind not in ("adjustment", "refund"):
        raise invalid_request("`kind` must be `adjustment` or `refund`", "kind")
    if kind == "refund" and amount.startswith("-"):
        raise invalid_request("a refund must be positive", "amount")
    allow_negative = data.get("allowNegative", False)
    if not isinstance(allow_negative, bool):
        raise invalid_request("`allowNegative` must be a boolean", "allowNegative")
    team_id = await granted_team(request, team_id_of(data))
    reply = await request.app[PEERS].billing.AdjustCredits(
        billing_pb2.AdjustCreditsRequest(
            team_id=team_id,
            amount=amount,
            kind=kind,
            reason=reason.strip(),
            idempotency_key=key,
            allow_negative=allow_negative,
            actor_id=who.user_id,
        ),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response(credits_object(reply.credits))


UNSETTLED_ROLES: Final = frozenset({"owner"})


def unsettled_object(hold: billing_pb2.UnsettledHold) -> dict[str, Any]:
    return {
        "teamId": hold.team_id,
        "holdId": hold.hold_id,
        "projectId": hold.project_id,
        "keyId": hold.key_id,
        "reserved": hold.reserved,
        "debited": hold.debited,
        "held": hold.held,
        "instanceId": hold.instance_id,
        "createdAt": iso_utc(hold.created_at),
        "expiresAt": iso_utc(hold.expires_at),
        "expiredAt": iso_utc(hold.expired_at),
    }


async def unsettled(request: web.Request) -> web.Response:
    """Holds that expired without their router giving them back (the router died): what billing
    let go once their usage facts were all in, to reconcile by hand. A team owner sees the
    team's; an operator sees the team's too, or every team's with ``allTeams=true``."""
    caller = caller_of(request)
    if caller.role not in UNSETTLED_ROLES and not caller.operator:
        raise ApiError(
            403, "forbidden", "only a team owner or an operator may list unsettled holds"
        )
    all_teams = request.query.get("allTeams", "false")
    if all_teams not in ("true", "false"):
        raise invalid_request("`allTeams` must be true or false", "allTeams")
    if all_teams == "true" and not caller.operator:
        raise ApiError(403, "forbidden", "only an operator may list every team's unsettled holds")
    reply = await request.app[PEERS].billing.ListUnsettledHolds(
        billing_pb2.ListUnsettledHoldsRequest(
            team_id=caller.team_id, all_teams=all_teams == "true"
        ),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response({"data": [unsettled_object(hold) for hold in reply.holds]})
