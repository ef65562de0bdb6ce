"""``tollgate.auth.v1.AuthService``: proto ⇄ domain, nothing else.

``Authenticate`` is here; every other RPC is in its domain's ``servicer.py`` (``tenancy``,
``byok``, ``oidc``, ``issuers``), mixed into the one servicer gRPC registers.
"""

from __future__ import annotations

from typing import Final

from tollgate.auth.v1 import auth_pb2, auth_pb2_grpc

from tollgate_auth import convert
from tollgate_auth.byok.service import ByokService
from tollgate_auth.byok.servicer import ByokRpcs
from tollgate_auth.convert import Context
from tollgate_auth.issuers.service import IssuerAdmin
from tollgate_auth.issuers.servicer import IssuerRpcs
from tollgate_auth.keys.service import AuthService
from tollgate_auth.oidc.service import OidcTokens
from tollgate_auth.oidc.servicer import OidcRpcs
from tollgate_auth.operators.service import OperatorAdmin
from tollgate_auth.operators.servicer import OperatorRpcs
from tollgate_auth.tenancy.service import AdminService
from tollgate_auth.tenancy.servicer import TenancyRpcs

SERVICE_NAME: Final = "tollgate.auth.v1.AuthService"


class AuthServicer(
    TenancyRpcs,
    ByokRpcs,
    OidcRpcs,
    IssuerRpcs,
    OperatorRpcs,
    auth_pb2_grpc.AuthServiceServicer,
):
    def __init__(
        self,
        service: AuthService,
        admin: AdminService,
        byok: ByokService,
        oidc: OidcTokens,
        issuers: IssuerAdmin,
        operators: OperatorAdmin,
    ) -> None:
        self._service = service
        self._admin = admin
        self._api_keys = admin.api_keys
        self._byok = byok
        self._oidc = oidc
        self._issuers = issuers
        self._operators = operators

    async def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: Context
    ) -> auth_pb2.AuthenticateResponse:
        principal = await self._service.authenticate_bearer(request.credential)
        return auth_pb2.AuthenticateResponse(principal=convert.principal_to_proto(principal))
