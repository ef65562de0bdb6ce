"""``GET /v1/credits`` and ``POST /v1/credits/top-up`` (ADMIN-API.md, research/protocols.md
§1.2): the caller's team's balance and lifetime usage, as decimal strings."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

import orjson
from aiohttp import web
from tollgate.billing.v1 import billing_pb2

from tollgate_edge.errors import ApiError, invalid_request
from tollgate_edge.identity import caller_of
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata
from tollgate_edge.responses import json_response

TOP_UP_ROLES = frozenset({"owner"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
_MAX_KEY = 150
_CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal(10) ** 9


def credits_object(credits: billing_pb2.Credits) -> dict[str, str]:
    return {"balance": credits.balance, "total_used": credits.total_used}


def top_up_amount(body: bytes) -> str:
    """The ``amount`` of a top-up body as a decimal string: a positive decimal string or JSON
    number with at most 2 decimals, below 1,000,000,000. Anything else is a 400."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid_request("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise invalid_request("the request body must be a JSON object")
    raw = data.get("amount")
    problem = "`amount` must be a positive decimal (a string or a number) with at most 2 decimals"
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise invalid_request(problem, "amount")
    try:
        # A JSON number arrives as a float: its shortest repr is the literal the client sent.
        value = Decimal(raw.strip() if isinstance(raw, str) else repr(raw))
    except InvalidOperation:
        raise invalid_request(problem, "amount") from None
    if not value.is_finite() or value <= 0:
        raise invalid_request(problem, "amount")
    if value >= _MAX_AMOUNT:
        raise invalid_request("`amount` must be below 1000000000", "amount")
    if value != value.quantize(_CENT, rounding=ROUND_DOWN):
        raise invalid_request(problem, "amount")
    return format(value, "f")


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
