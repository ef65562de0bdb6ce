"""The OIDC token RPCs of ``tollgate.auth.v1.AuthService``: proto ⇄ domain, nothing else."""

from __future__ import annotations

import json

from tollgate.auth.v1 import auth_pb2

from tollgate_auth import convert
from tollgate_auth.convert import Context
from tollgate_auth.oidc.service import OidcTokens


class OidcRpcs:
    """Mixed into :class:`tollgate_auth.servicer.AuthServicer`, which sets the service."""

    _oidc: OidcTokens

    async def IssueOidcToken(
        self, request: auth_pb2.IssueOidcTokenRequest, context: Context
    ) -> auth_pb2.IssueOidcTokenResponse:
        issued = await self._oidc.issue(
            convert.caller_from_proto(request.caller), request.team_id, request.project_id
        )
        return auth_pb2.IssueOidcTokenResponse(
            token=issued.token, expires_at=convert.timestamp(issued.expires_at)
        )

    async def GetJwks(
        self, request: auth_pb2.GetJwksRequest, context: Context
    ) -> auth_pb2.GetJwksResponse:
        return auth_pb2.GetJwksResponse(
            issuer=self._oidc.issuer, jwks_json=json.dumps(self._oidc.jwks())
        )
