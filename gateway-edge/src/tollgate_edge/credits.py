"""``GET /v1/credits``, ``POST /v1/credits/top-up``, ``POST /v1/credits/adjustments`` and
``GET /v1/credits/unsettled`` (docs/billing.md, docs/admin-api.md): the caller's team's balance
and lifetime usage, as decimal strings; purchases, refunds and operator adjustments; holds that
expired without being given back."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any, Final

import orjson
from aiohttp import web
from tollgate.billing.v1 import billing_pb2

from tollgate_edge.admin.permissions import require
from tollgate_edge.errors import ApiError, invalid_request
from tollgate_edge.identity import caller_of
from tollgate_edge.lookup import iso_utc
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata
from tollgate_edge.responses import json_response

TOP_UP_ROLES = frozenset({"owner"})
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


def json_object(body: bytes) -> dict[str, Any]:
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid_request("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise invalid_request("the request body must be a JSON object")
    return data


def top_up_amount(body: bytes) -> str:
    """The ``amount`` of a top-up body as a decimal string (see :func:`amount_text`)."""
    return amount_text(json_object(body).get("amount"))


async def get_credits(request: web.Request) -> web.Response:
    caller = caller_of(request)
    reply = await request.app[PEERS].billing.GetCredits(
        billing_pb2.GetCreditsRequest(team_id=caller.team_id),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response(credits_object(reply.credits))


async def top_up(request: web.Request) -> web.Response:
    """Add purchased credits: an operator-side grant. A payment provider would be called here,
    before the ledger entry (see docs/billing.md, "Payments")."""
    caller = caller_of(request)
    if caller.role not in TOP_UP_ROLES:
        raise ApiError(403, "forbidden", "only a team owner may top up credits")
    amount = top_up_amount(await request.read())
    key = request.headers.get(IDEMPOTENCY_HEADER, "")
    if len(key) > _MAX_KEY or not key.isprintable():
        raise invalid_request(f"`{IDEMPOTENCY_HEADER}` must be printable, at most {_MAX_KEY}")
    reply = await request.app[PEERS].billing.TopUp(
        billing_pb2.TopUpRequest(
            team_id=caller.team_id,
            amount=amount,
            idempotency_key=key,
            actor_type="user",
            actor_id=caller.user_id,
        ),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response(credits_object(reply.credits))


ADJUST: Final = "credits:top-up"  # the same owner-only permission as a top-up
_ADJUSTMENT_FIELDS: Final = frozenset(
    {"amount", "reason", "idempotencyKey", "kind", "allowNegative"}
)
_MAX_REASON: Final = 500


async def adjust(request: web.Request) -> web.Response:
    """A refund or an operator's correction: a signed ledger entry, idempotent per key, that
    never takes the balance below zero unless ``allowNegative`` (then 409 ``conflict``)."""
    require(request, ADJUST)
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
    reply = await request.app[PEERS].billing.AdjustCredits(
        billing_pb2.AdjustCreditsRequest(
            team_id=who.team_id,
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
    """Holds of the caller's team that expired without their router giving them back (the
    router died): what billing let go once their usage facts were all in, for an owner to
    reconcile. Owners only until an operator role exists; an operator's view of every team is
    the same call with ``all_teams``."""
    caller = caller_of(request)
    if caller.role not in UNSETTLED_ROLES:
        raise ApiError(403, "forbidden", "only a team owner may list unsettled holds")
    reply = await request.app[PEERS].billing.ListUnsettledHolds(
        billing_pb2.ListUnsettledHoldsRequest(team_id=caller.team_id),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response({"data": [unsettled_object(hold) for hold in reply.holds]})
