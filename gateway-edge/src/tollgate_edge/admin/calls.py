"""The edge's side of the admin RPCs: the auth stub, the caller, pagination and the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.auth.v1 import auth_pb2, auth_pb2_grpc

from tollgate_edge.errors import invalid_request
from tollgate_edge.identity import caller_of
from tollgate_edge.lookup import iso_utc
from tollgate_edge.peers import PEERS, SETTINGS, call_metadata

if TYPE_CHECKING:
    from tollgate.auth.v1.auth_pb2_grpc import AuthServiceAsyncStub

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 200

AUTH: Final = web.AppKey("auth_admin", object)

_ROLES: Final = {
    "owner": auth_pb2.ROLE_OWNER,
    "member": auth_pb2.ROLE_MEMBER,
    "viewer": auth_pb2.ROLE_VIEWER,
}
ROLE_NAMES: Final = {value: name for name, value in _ROLES.items()}
_METHODS: Final = {"api-key": auth_pb2.AUTH_METHOD_API_KEY, "oidc": auth_pb2.AUTH_METHOD_OIDC}
METHOD_NAMES: Final = {value: name for name, value in _METHODS.items()}


async def auth_stub_context(app: web.Application) -> AsyncIterator[None]:
    """The auth stub over the edge's long-lived auth channel (opened by the peers context)."""
    app[AUTH] = auth_pb2_grpc.AuthServiceStub(app[PEERS].channels["auth"])
    yield


def auth(request: web.Request) -> AuthServiceAsyncStub:
    stub: Any = request.app[AUTH]
    return stub  # type: ignore[no-any-return]


def rpc_options(request: web.Request) -> dict[str, Any]:
    return {
        "metadata": call_metadata(request),
        "timeout": request.app[SETTINGS].rpc_deadline_seconds,
    }


def caller(request: web.Request) -> auth_pb2.Principal:
    """Who is calling (Envoy's identity headers) as the admin RPCs take it."""
    who = caller_of(request)
    return auth_pb2.Principal(
        team_id=who.team_id,
        team_slug=who.team_slug,
        user_id=who.user_id,
        key_id=who.key_id,
        project_id=who.project_id,
        role=_ROLES.get(who.role, auth_pb2.ROLE_UNSPECIFIED),
        auth_method=_METHODS.get(who.auth_method, auth_pb2.AUTH_METHOD_UNSPECIFIED),
    )


def role(value: str, param: str = "role") -> auth_pb2.Role:
    found = _ROLES.get(value)
    if found is None:
        raise invalid_request("`role` must be one of owner, member, viewer", param)
    return found


def page(request: web.Request) -> auth_pb2.PageRequest:
    """``limit`` (1..200, default 50) and ``cursor`` of a list request."""
    raw = request.query.get("limit", "")
    limit = DEFAULT_LIMIT
    if raw:
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
            raise invalid_request(f"`limit` must be an integer from 1 to {MAX_LIMIT}", "limit")
        limit = int(raw)
    return auth_pb2.PageRequest(page_size=limit, page_token=request.query.get("cursor", ""))


def timestamp(moment: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


def iso_or_none(message: Any, field: str) -> str | None:
    return iso_utc(getattr(message, field)) if message.HasField(field) else None
