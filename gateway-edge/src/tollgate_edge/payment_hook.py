"""``POST /v1/credits/payment-hook``: credit a team has bought, as the payment provider's hook
reports it (docs/billing.md, "Payments"). Off unless ``TOLLGATE_PAYMENT_HOOK_SECRET`` is set
(then 404, as if the route did not exist).

The hook carries no API key (Envoy lets it through without ext_authz): what vouches for it is
``Tollgate-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body under the shared secret,
compared in constant time before the body is even parsed. ``paymentId`` is the idempotency key,
so a repeated delivery (payment providers retry) credits once.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from aiohttp import web
from tollgate.billing.v1 import billing_pb2

from tollgate_edge.credits import amount_text, credits_object
from tollgate_edge.errors import ApiError, invalid_request
from tollgate_edge.json_body import json_object
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata
from tollgate_edge.responses import json_response

SIGNATURE_HEADER: Final = "Tollgate-Signature"
MAX_BODY: Final = 64 * 1024
_FIELDS: Final = frozenset({"teamId", "amount", "paymentId"})
_MAX_PAYMENT_ID: Final = 100


def signature(secret: bytes, body: bytes) -> str:
    """The header value a hook with ``body`` must carry."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


async def payment_hook(request: web.Request) -> web.Response:
    secret = request.app[SETTINGS].payment_hook_secret
    if secret is None or not secret.get_secret_value():
        raise ApiError(404, "not_found", "not found")
    body = await request.content.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise ApiError(413, "invalid_request_error", f"the body is larger than {MAX_BODY} bytes")
    expected = signature(secret.get_secret_value().encode(), body)
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise ApiError(
            401,
            "authentication_error",
            f"the `{SIGNATURE_HEADER}` header does not sign this body",
            code="invalid_signature",
        )
    data = json_object(body)
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise invalid_request(f"unknown field `{unknown[0]}`", unknown[0])
    amount = amount_text(data.get("amount"))
    team_id, payment_id = data.get("teamId"), data.get("paymentId")
    if not isinstance(team_id, str) or not team_id:
        raise invalid_request("`teamId` is required", "teamId")
    if not isinstance(payment_id, str) or not payment_id or len(payment_id) > _MAX_PAYMENT_ID:
        raise invalid_request(f"`paymentId` is required: at most {_MAX_PAYMENT_ID}", "paymentId")
    if not payment_id.isprintable():
        raise invalid_request("`paymentId` must be printable", "paymentId")
    reply = await request.app[PEERS].billing.TopUp(
        billing_pb2.TopUpRequest(
            team_id=team_id,
            amount=amount,
            idempotency_key=f"payment:{payment_id}",
            actor_type="system",
        ),
        metadata=call_metadata(request),
        timeout=request.app[SETTINGS].rpc_deadline_seconds,
    )
    return json_response(credits_object(reply.credits))
