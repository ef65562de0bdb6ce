"""Who is calling, as the auth service established it.

On the hot model routes the edge authenticates the request itself (:mod:`tollgate_edge.authn`)
and keeps the caller on the request (:data:`CALLER`); identity headers are never read there.
Elsewhere Envoy's ext_authz (the auth service) did it: Envoy strips every client-sent
``x-tollgate-*`` header and adds these for an authenticated request (docs/internal-contracts.md,
Identity headers). They are believed only from Envoy: it adds the installation's Envoy token to
every request it forwards, and :func:`from_envoy_only` refuses any request to the edge's port
without it (docs/architecture.md, "Trust").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from tollgate_common.internal_auth import EDGE_HEADER, InternalKeys

from tollgate_edge.errors import ApiError

TEAM_ID = "x-tollgate-team-id"
TEAM_SLUG = "x-tollgate-team-slug"
USER_ID = "x-tollgate-user-id"
KEY_ID = "x-tollgate-key-id"
PROJECT_ID = "x-tollgate-project-id"
ROLE = "x-tollgate-role"
AUTH_METHOD = "x-tollgate-auth-method"
OPERATOR = "x-tollgate-operator"

INFERENCE_ROLES = frozenset({"owner", "member"})


@dataclass(frozen=True, slots=True)
class Caller:
    team_id: str
    team_slug: str
    user_id: str
    key_id: str
    project_id: str
    role: str
    auth_method: str
    # An operator of the installation (docs/permissions.md); the auth service re-reads it from
    # its database before anything an operator alone may do.
    operator: bool = False

    @property
    def may_call_inference(self) -> bool:
        return self.role in INFERENCE_ROLES


# The caller the edge authenticated itself (hot model routes); absent elsewhere.
CALLER = web.RequestKey("caller", Caller)


def caller_from_headers(headers: Mapping[str, str]) -> Caller:
    """The caller the identity headers name (``team_id`` empty when there are none)."""
    return Caller(
        team_id=headers.get(TEAM_ID, ""),
        team_slug=headers.get(TEAM_SLUG, ""),
        user_id=headers.get(USER_ID, ""),
        key_id=headers.get(KEY_ID, ""),
        project_id=headers.get(PROJECT_ID, ""),
        role=headers.get(ROLE, ""),
        auth_method=headers.get(AUTH_METHOD, ""),
        operator=headers.get(OPERATOR, "") == "true",
    )


def caller_of(request: web.Request) -> Caller:
    """The caller of ``request``; 401 when it was not authenticated."""
    caller = request.get(CALLER)
    if caller is None:
        caller = caller_from_headers(request.headers)
    if not caller.team_id:
        raise ApiError(401, "authentication_error", "missing or invalid credentials")
    return caller


def inference_caller(request: web.Request) -> Caller:
    """The caller, who must be allowed to run inference (viewers may not: 403)."""
    caller = caller_of(request)
    if not caller.may_call_inference:
        raise ApiError(403, "forbidden", f"role {caller.role or 'none'!r} may not call inference")
    return caller


# What a probe may ask the edge's port directly (kubelet, ``tollgate up``): nothing about anyone.
_PROBES = frozenset({"/healthz", "/readyz"})


def from_envoy_only(keys: InternalKeys) -> Middleware:
    """Refuses (401) a request that did not come through Envoy: its identity headers could be
    anybody's."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (
            request.path not in _PROBES
            and keys.caller_of(request.headers.get(EDGE_HEADER, "")) != "envoy"
        ):
            raise ApiError(401, "authentication_error", "requests must come through the gateway")
        return await handler(request)

    return middleware
