"""Tollgate's own OIDC tokens: issued for a project (12 hours), verified by ext_authz.

Claims (docs/oidc.md): ``iss`` (``TOLLGATE_OIDC_ISSUER``), ``aud`` ``tollgate``,
``sub`` ``team:<teamId>:project:<projectId>``, ``teamId``, ``projectId``, ``iat``, ``exp``; the
header names the signing key (``kid``) and ``ES256``. Anything else — another algorithm
(``none`` included), an unknown key, a bad signature, another issuer or audience, an expired
token — is refused. A token of a project or team that no longer exists stops working within a
second (:class:`ProjectCheck`). Tokens of other issuers go to the team's trusted issuers
(:mod:`tollgate_auth.issuers.tokens`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import jwt

from tollgate_auth.access.permissions import Action
from tollgate_auth.access.service import TeamAccess
from tollgate_auth.domain import Clock, Principal, utc_now
from tollgate_auth.errors import InvalidToken, OidcTokenExpired, ProjectNotFound
from tollgate_auth.issuers.tokens import TrustedIssuers
from tollgate_auth.oidc.signing_keys import ALGORITHM, TOKEN_LIFETIME, SigningKeys
from tollgate_auth.tenancy.project_check import ProjectCheck
from tollgate_auth.tenancy.repository import TenancyRepository

AUDIENCE: Final = "tollgate"
_REQUIRED: Final = ["exp", "iat", "iss", "aud", "sub"]


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime


class OidcTokens:
    def __init__(
        self,
        keys: SigningKeys,
        issuer: str,
        tenancy: TenancyRepository,
        access: TeamAccess,
        projects: ProjectCheck,
        external: TrustedIssuers | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._tenancy = tenancy
        self._access = access
        self._projects = projects
        self._external = external
        self._clock = clock

    @property
    def issuer(self) -> str:
        return self._issuer

    def jwks(self) -> dict[str, Any]:
        return self._keys.jwks()

    async def issue(self, caller: Principal, team_id: str, project_id: str) -> IssuedToken:
        team_id = team_id or caller.team_id
        await self._access.authorize(caller, team_id, Action.ISSUE_OIDC_TOKENS)
        if not project_id or await self._tenancy.project(team_id, project_id) is None:
            raise ProjectNotFound()
        key = self._keys.active()
        if key is None or key.private_key is None:
            await self._keys.load()
            key = self._keys.active()
        assert key is not None and key.private_key is not None
        now = self._clock().replace(microsecond=0)
        expires = now + TOKEN_LIFETIME
        claims = {
            "iss": self._issuer,
            "aud": AUDIENCE,
            "sub": f"team:{team_id}:project:{project_id}",
            "teamId": team_id,
            "projectId": project_id,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        }
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
        return IssuedToken(token, expires)

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken() from None
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise InvalidToken() from None
        if unverified.get("iss") != self._issuer:
            if self._external is None:
                raise InvalidToken()
            return await self._external.verify(token, header, unverified)
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise InvalidToken()
        key = self._keys.get(kid) or await self._keys.refresh_for_unknown(kid)
        if key is None:
            raise InvalidToken()
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self._issuer,
                options={"require": _REQUIRED},
            )
        except jwt.ExpiredSignatureError:
            raise OidcTokenExpired() from None
        except jwt.PyJWTError:
            raise InvalidToken() from None
        team_id, project_id = claims.get("teamId"), claims.get("projectId")
        if (
            not isinstance(team_id, str)
            or not isinstance(project_id, str)
            or claims["sub"] != f"team:{team_id}:project:{project_id}"
        ):
            raise InvalidToken()
        await self._projects.require(team_id, project_id)
        return Principal.of_oidc_token(team_id, "", project_id)
