"""``tollgate.auth.v1.AuthService``: proto ⇄ domain, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import grpc
from tollgate.auth.v1 import auth_pb2, auth_pb2_grpc

from tollgate_auth.domain import AuthMethod, Principal, Role
from tollgate_auth.service import AuthService

SERVICE_NAME: Final = "tollgate.auth.v1.AuthService"

_ROLES: Final[Mapping[Role, auth_pb2.Role]] = MappingProxyType(
    {
        Role.OWNER: auth_pb2.ROLE_OWNER,
        Role.MEMBER: auth_pb2.ROLE_MEMBER,
        Role.VIEWER: auth_pb2.ROLE_VIEWER,
    }
)
_METHODS: Final[Mapping[AuthMethod, auth_pb2.AuthMethod]] = MappingProxyType(
    {AuthMethod.API_KEY: auth_pb2.AUTH_METHOD_API_KEY, AuthMethod.OIDC: auth_pb2.AUTH_METHOD_OIDC}
)


def principal_to_proto(principal: Principal) -> auth_pb2.Principal:
    return auth_pb2.Principal(
        team_id=principal.team_id,
        team_slug=principal.team_slug,
        project_id=principal.project_id,
        key_id=principal.key_id,
        user_id=principal.user_id,
        role=_ROLES[principal.role],
        auth_method=_METHODS[principal.auth_method],
    )


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, service: AuthService) -> None:
        self._service = service

    async def Authenticate(
        self,
        request: auth_pb2.AuthenticateRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> auth_pb2.AuthenticateResponse:
        principal = await self._service.authenticate_bearer(request.credential)
        return auth_pb2.AuthenticateResponse(principal=principal_to_proto(principal))
