"""The operator RPCs of ``tollgate.auth.v1.AuthService``: proto ⇄ domain, nothing else."""

from __future__ import annotations

from tollgate.auth.v1 import auth_pb2

from tollgate_auth import convert
from tollgate_auth.convert import Context
from tollgate_auth.operators.service import OperatorAdmin


class OperatorRpcs:
    """Mixed into :class:`tollgate_auth.servicer.AuthServicer`, which sets the service."""

    _operators: OperatorAdmin

    async def ListOperators(
        self, request: auth_pb2.ListOperatorsRequest, context: Context
    ) -> auth_pb2.ListOperatorsResponse:
        found = await self._operators.list_operators(convert.caller_from_proto(request.caller))
        return auth_pb2.ListOperatorsResponse(
            operators=[convert.operator_to_proto(operator) for operator in found]
        )

    async def SetOperator(
        self, request: auth_pb2.SetOperatorRequest, context: Context
    ) -> auth_pb2.SetOperatorResponse:
        operator, created = await self._operators.set_operator(
            convert.caller_from_proto(request.caller), request.user_id, True
        )
        return auth_pb2.SetOperatorResponse(
            operator=convert.operator_to_proto(operator), created=created
        )

    async def RemoveOperator(
        self, request: auth_pb2.RemoveOperatorRequest, context: Context
    ) -> auth_pb2.RemoveOperatorResponse:
        await self._operators.set_operator(
            convert.caller_from_proto(request.caller), request.user_id, False
        )
        return auth_pb2.RemoveOperatorResponse()

    async def AuthorizeCreditGrant(
        self, request: auth_pb2.AuthorizeCreditGrantRequest, context: Context
    ) -> auth_pb2.AuthorizeCreditGrantResponse:
        team_id = await self._operators.authorize_credit_grant(
            convert.caller_from_proto(request.caller), request.team_id
        )
        return auth_pb2.AuthorizeCreditGrantResponse(team_id=team_id)
