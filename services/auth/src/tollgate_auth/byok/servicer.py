"""The BYOK RPCs of ``tollgate.auth.v1.AuthService``: proto ⇄ domain, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from tollgate.auth.v1 import auth_pb2

from tollgate_auth import convert
from tollgate_auth.byok.service import ByokService
from tollgate_auth.convert import Context
from tollgate_auth.domain import ByokTest


class ByokRpcs:
    """Mixed into :class:`tollgate_auth.servicer.AuthServicer`, which sets the service."""

    _byok: ByokService

    async def ListByokCredentials(
        self, request: auth_pb2.ListByokCredentialsRequest, context: Context
    ) -> auth_pb2.ListByokCredentialsResponse:
        found = await self._byok.list(convert.caller_from_proto(request.caller), request.team_id)
        return auth_pb2.ListByokCredentialsResponse(
            credentials=[convert.byok_to_proto(c) for c in found]
        )

    async def PutByokCredential(
        self, request: auth_pb2.PutByokCredentialRequest, context: Context
    ) -> auth_pb2.PutByokCredentialResponse:
        stored, created = await self._byok.put(
            convert.caller_from_proto(request.caller),
            request.team_id,
            request.provider,
            dict(request.credentials),
            request.enabled if request.HasField("enabled") else None,
        )
        return auth_pb2.PutByokCredentialResponse(
            credential=convert.byok_to_proto(stored), created=created
        )

    async def UpdateByokCredential(
        self, request: auth_pb2.UpdateByokCredentialRequest, context: Context
    ) -> auth_pb2.UpdateByokCredentialResponse:
        stored = await self._byok.set_enabled(
            convert.caller_from_proto(request.caller),
            request.team_id,
            request.provider,
            request.enabled,
        )
        return auth_pb2.UpdateByokCredentialResponse(credential=convert.byok_to_proto(stored))

    async def DeleteByokCredential(
        self, request: auth_pb2.DeleteByokCredentialRequest, context: Context
    ) -> auth_pb2.DeleteByokCredentialResponse:
        await self._byok.delete(
            convert.caller_from_proto(request.caller), request.team_id, request.provider
        )
        return auth_pb2.DeleteByokCredentialResponse()

    async def GetByokSecret(
        self, request: auth_pb2.GetByokSecretRequest, context: Context
    ) -> auth_pb2.GetByokSecretResponse:
        secret = await self._byok.secret(
            request.team_id, request.provider, request.include_disabled
        )
        if secret is None:
            return auth_pb2.GetByokSecretResponse(found=False)
        return auth_pb2.GetByokSecretResponse(found=True, credentials=secret)

    async def ListByokSecrets(
        self, request: auth_pb2.ListByokSecretsRequest, context: Context
    ) -> auth_pb2.ListByokSecretsResponse:
        found = await self._byok.secrets(request.team_id)
        return auth_pb2.ListByokSecretsResponse(
            secrets=[
                auth_pb2.ByokSecret(provider=provider, credentials=credentials)
                for provider, credentials in sorted(found.items())
            ]
        )

    async def AuthorizeByokTest(
        self, request: auth_pb2.AuthorizeByokTestRequest, context: Context
    ) -> auth_pb2.AuthorizeByokTestResponse:
        team_id = await self._byok.authorize_test(
            convert.caller_from_proto(request.caller),
            request.team_id,
            request.provider,
            request.with_credentials,
        )
        return auth_pb2.AuthorizeByokTestResponse(team_id=team_id)

    async def RecordByokTest(
        self, request: auth_pb2.RecordByokTestRequest, context: Context
    ) -> auth_pb2.RecordByokTestResponse:
        result = request.result
        await self._byok.record_test(
            convert.caller_from_proto(request.caller),
            request.team_id,
            request.provider,
            request.stored,
            ByokTest(
                ok=result.ok,
                status_code=result.status_code,
                message=result.message,
                at=result.at.ToDatetime(UTC) if result.HasField("at") else datetime.now(UTC),
            ),
        )
        return auth_pb2.RecordByokTestResponse()
