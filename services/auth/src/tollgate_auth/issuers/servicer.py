"""The trusted-issuer RPCs of ``tollgate.auth.v1.AuthService``: proto ⇄ domain, nothing else."""

from __future__ import annotations

from tollgate.auth.v1 import auth_pb2

from tollgate_auth import convert
from tollgate_auth.convert import Context
from tollgate_auth.issuers.service import IssuerAdmin


class IssuerRpcs:
    """Mixed into :class:`tollgate_auth.servicer.AuthServicer`, which sets the service."""

    _issuers: IssuerAdmin

    async def ListOidcIssuers(
        self, request: auth_pb2.ListOidcIssuersRequest, context: Context
    ) -> auth_pb2.ListOidcIssuersResponse:
        found = await self._issuers.list(convert.caller_from_proto(request.caller), request.team_id)
        return auth_pb2.ListOidcIssuersResponse(issuers=[convert.issuer_to_proto(i) for i in found])

    async def AddOidcIssuer(
        self, request: auth_pb2.AddOidcIssuerRequest, context: Context
    ) -> auth_pb2.AddOidcIssuerResponse:
        given = request.issuer
        added = await self._issuers.add(
            convert.caller_from_proto(request.caller),
            request.team_id,
            issuer=given.issuer,
            audience=given.audience,
            jwks_uri=given.jwks_uri,
            jwks_json=given.jwks_json,
            team_claim_kind=given.team_claim_kind,
            team_claim=given.team_claim,
            project_claim=given.project_claim,
        )
        return auth_pb2.AddOidcIssuerResponse(issuer=convert.issuer_to_proto(added))

    async def DeleteOidcIssuer(
        self, request: auth_pb2.DeleteOidcIssuerRequest, context: Context
    ) -> auth_pb2.DeleteOidcIssuerResponse:
        await self._issuers.delete(
            convert.caller_from_proto(request.caller), request.team_id, request.issuer_id
        )
        return auth_pb2.DeleteOidcIssuerResponse()
