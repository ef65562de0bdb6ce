"""What the caller may do, as the auth service decided it (``x-tollgate-permissions``).

The auth service keeps the one permission table (docs/permissions.md) and its ext_authz answer
lists the actions the caller's role allows in the key's team (and, for an operator, the
operator's). Edge handlers that act on the key's team without asking the auth service (e.g.
setting a budget) check here::

    require(request, "budgets")

Requests naming another team ask the auth service, which knows the role there; so do credit
grants, whose operator privilege the auth service re-reads from its database.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from tollgate_edge.errors import ApiError
from tollgate_edge.identity import caller_of

PERMISSIONS: Final = "x-tollgate-permissions"


def permitted(request: web.Request) -> frozenset[str]:
    caller_of(request)  # 401 without an identity
    raw = request.headers.get(PERMISSIONS, "")
    return frozenset(part for part in raw.split(",") if part)


def require(request: web.Request, action: str) -> None:
    """403 unless the caller's role may do ``action`` (a value of the auth service's table)."""
    if action not in permitted(request):
        role = request.headers.get("x-tollgate-role", "") or "caller"
        raise ApiError(403, "forbidden", f"a team {role} may not do this ({action})")
