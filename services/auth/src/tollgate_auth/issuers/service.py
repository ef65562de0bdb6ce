"""Managing a team's trusted OIDC issuers (owners): add, list, remove."""

from __future__ import annotations

import json
from typing import Final

from tollgate_common.errors import InvalidArgument
from tollgate_common.ids import new_id

from tollgate_auth.access.permissions import Action
from tollgate_auth.access.service import TeamAccess
from tollgate_auth.domain import Clock, Principal, TrustedIssuer, utc_now
from tollgate_auth.errors import IssuerNotFound
from tollgate_auth.events import ActivityType, AuthEvents
from tollgate_auth.issuers.repository import IssuersRepository
from tollgate_auth.issuers.tokens import TrustedIssuers, parse_jwks

TEAM_CLAIM_KINDS: Final = ("teamId", "teamSlug")
MAX_JWKS_CHARS: Final = 20_000


def _bad(message: str, param: str) -> InvalidArgument:
    return InvalidArgument(message, metadata={"param": param})


def _text(value: str, param: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit or not value.isprintable():
        raise _bad(f"`{param}` must be 1 to {limit} printable characters", param)
    return value


class IssuerAdmin:
    def __init__(
        self,
        repository: IssuersRepository,
        trusted: TrustedIssuers,
        access: TeamAccess,
        events: AuthEvents,
        own_issuer: str,
        clock: Clock = utc_now,
    ) -> None:
        self._repository = repository
        self._trusted = trusted
        self._access = access
        self._events = events
        self._own_issuer = own_issuer
        self._clock = clock

    async def list(self, caller: Principal, team_id: str) -> list[TrustedIssuer]:
        team_id = team_id or caller.team_id
        await self._access.authorize(caller, team_id, Action.READ)
        return await self._repository.of_team(team_id)

    async def add(
        self,
        caller: Principal,
        team_id: str,
        *,
        issuer: str,
        audience: str,
        jwks_uri: str,
        jwks_json: str,
        team_claim_kind: str,
        team_claim: str,
        project_claim: str,
    ) -> TrustedIssuer:
        team_id = team_id or caller.team_id
        await self._access.authorize(caller, team_id, Action.MANAGE_OIDC_ISSUERS)
        issuer = _text(issuer, "issuer", 500)
        if issuer.rstrip("/") == self._own_issuer:
            raise _bad("that is Tollgate's own issuer", "issuer")
        if bool(jwks_uri) == bool(jwks_json):
            raise _bad("give exactly one of `jwksUri` and `jwks`", "jwksUri")
        if jwks_uri:
            jwks_uri = _text(jwks_uri, "jwksUri", 1000)
            secure = jwks_uri.startswith("https://")
            if not secure and not (
                self._trusted.allow_insecure_jwks and jwks_uri.startswith(("http://", "file://"))
            ):
                raise _bad("`jwksUri` must be an https:// URL", "jwksUri")
        if jwks_json:
            if len(jwks_json) > MAX_JWKS_CHARS:
                raise _bad("`jwks` is too large", "jwks")
            try:
                keys = parse_jwks(jwks_json)
            except (ValueError, TypeError):
                keys = {}
            if not keys:
                raise _bad(
                    "`jwks` must be a JWKS document with at least one key with a kid", "jwks"
                )
            if any(key.key_type == "oct" for key in keys.values()):
                raise _bad("`jwks` must hold public keys only", "jwks")
            jwks_json = json.dumps(json.loads(jwks_json), separators=(",", ":"))
        if team_claim_kind not in TEAM_CLAIM_KINDS:
            raise _bad("`claimMappings` must name `teamId` or `teamSlug`", "claimMappings")
        registration = TrustedIssuer(
            id=new_id("iss"),
            team_id=team_id,
            team_slug="",
            issuer=issuer,
            audience=_text(audience, "audience", 500),
            team_claim_kind=team_claim_kind,
            team_claim=_text(team_claim, f"claimMappings.{team_claim_kind}", 100),
            created_at=self._clock(),
            jwks_uri=jwks_uri or None,
            jwks_json=jwks_json or None,
            project_claim=_text(project_claim, "claimMappings.projectId", 100)
            if project_claim
            else None,
        )
        await self._repository.add(registration)
        await self._trusted.refresh()
        self._events.activity(
            caller,
            team_id,
            ActivityType.OIDC_ISSUER_ADDED,
            ("oidc-issuer", registration.id),
            {"issuer": issuer},
            at=registration.created_at,
        )
        return registration

    async def delete(self, caller: Principal, team_id: str, issuer_id: str) -> None:
        team_id = team_id or caller.team_id
        await self._access.authorize(caller, team_id, Action.MANAGE_OIDC_ISSUERS)
        removed = await self._repository.delete(team_id, issuer_id)
        if removed is None:
            raise IssuerNotFound()
        await self._trusted.refresh()
        # The issuer's tokens name no key: the edge's identity cache drops the team's.
        self._events.membership_changed(team_id, "", self._clock())
        self._events.activity(
            caller,
            team_id,
            ActivityType.OIDC_ISSUER_REMOVED,
            ("oidc-issuer", issuer_id),
            {"issuer": removed.issuer},
        )
