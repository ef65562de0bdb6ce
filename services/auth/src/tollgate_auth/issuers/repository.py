"""SQL for trusted external OIDC issuers; owns its transactions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tollgate_auth.domain import TrustedIssuer
from tollgate_auth.errors import Conflict
from tollgate_auth.models import oidc_issuers, teams


def _issuer(row: Any) -> TrustedIssuer:
    return TrustedIssuer(
        id=row.id,
        team_id=row.team_id,
        team_slug=row.slug,
        issuer=row.issuer,
        audience=row.audience,
        team_claim_kind=row.team_claim_kind,
        team_claim=row.team_claim,
        created_at=row.created_at,
        jwks_uri=row.jwks_uri,
        jwks_json=row.jwks_json,
        project_claim=row.project_claim,
    )


_SELECT = select(oidc_issuers, teams.c.slug).join(teams, teams.c.id == oidc_issuers.c.team_id)


class IssuersRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def all(self) -> list[TrustedIssuer]:
        async with self._engine.connect() as conn:
            return [_issuer(row) for row in await conn.execute(_SELECT)]

    async def of_team(self, team_id: str) -> list[TrustedIssuer]:
        query = _SELECT.where(oidc_issuers.c.team_id == team_id).order_by(oidc_issuers.c.id)
        async with self._engine.connect() as conn:
            return [_issuer(row) for row in await conn.execute(query)]

    async def add(self, issuer: TrustedIssuer) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(oidc_issuers).values(
                        id=issuer.id,
                        team_id=issuer.team_id,
                        issuer=issuer.issuer,
                        jwks_uri=issuer.jwks_uri,
                        jwks_json=issuer.jwks_json,
                        audience=issuer.audience,
                        team_claim_kind=issuer.team_claim_kind,
                        team_claim=issuer.team_claim,
                        project_claim=issuer.project_claim,
                        created_at=issuer.created_at,
                    )
                )
        except IntegrityError:
            raise Conflict(
                "this team trusts that issuer already", metadata={"param": "issuer"}
            ) from None

    async def delete(self, team_id: str, issuer_id: str) -> TrustedIssuer | None:
        where = (oidc_issuers.c.id == issuer_id) & (oidc_issuers.c.team_id == team_id)
        async with self._engine.begin() as conn:
            row = (await conn.execute(_SELECT.where(where))).first()
            if row is None:
                return None
            await conn.execute(delete(oidc_issuers).where(where))
        return _issuer(row)
