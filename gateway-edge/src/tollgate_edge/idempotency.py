"""The ``Idempotency-Key`` header of the inference endpoints (docs/idempotency.md): checked
here, passed to the router with a hash of the request body; the router claims, keeps and
replays. A replayed answer carries ``Idempotent-Replayed: true``."""

from __future__ import annotations

import hashlib
from typing import Any, Final

import orjson
from aiohttp import web
from tollgate.router.v1 import router_pb2

from tollgate_edge.errors import invalid_request

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
MAX_LENGTH: Final = 255
_RULE = f"the `{HEADER}` header must be 1 to {MAX_LENGTH} visible ASCII characters (no spaces)"


def body_hash(body: dict[str, Any]) -> str:
    """Hex SHA-256 of the body's canonical JSON (keys sorted, no whitespace): the same request
    sent with its fields in another order or spacing is the same request."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def idempotency_key(request: web.Request, body: dict[str, Any]) -> router_pb2.IdempotencyKey | None:
    """The request's key and body hash; None without the header, a 400 for a bad key."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= MAX_LENGTH or not all("!" <= ch <= "~" for ch in key):
        raise invalid_request(_RULE, HEADER)
    return router_pb2.IdempotencyKey(key=key, body_hash=body_hash(body))


def replayed_headers(replayed: bool) -> dict[str, str]:
    """The reply header that tells a client it got the first request's answer again."""
    return {REPLAYED_HEADER: "true"} if replayed else {}
