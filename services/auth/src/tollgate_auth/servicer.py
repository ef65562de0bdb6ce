"""``tollgate.auth.v1.AuthService``: proto ⇄ domain, nothing else."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

import grpc
from tollgate.auth.v1 import auth_pb2, auth_pb2_grpc

from tollgate_auth import convert
from tollgate_auth.byok.service import ByokService
from tollgate_auth.domain import ByokTest
from tollgate_auth.issuers.service import IssuerAdmin
from tollgate_auth.keys.service import AuthService
from tollgate_auth.oidc.service import OidcTokens
from tollgate_auth.tenancy.service import AdminService

SERVICE_NAME: Final = "tollgate.auth.v1.AuthService"

Context = grpc.aio.ServicerContext[Any, Any]

# Kept here for callers of the walking skeleton.
principal_to_proto = convert.principal_to_proto


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(
        self,
        service: AuthService,
        admin: AdminService,
        byok: ByokService,
        oidc: OidcTokens,
        issuers: IssuerAdmin,
    ) -> None:
        self._service = service
        self._admin = admin
        self._byok = byok
        self._oidc = oidc
        self._issuers = issuers

    async def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: Context
    ) -> auth_pb2.AuthenticateResponse:
        principal = await self._service.authenticate_bearer(request.credential)
        return auth_pb2.AuthenticateResponse(principal=convert.principal_to_proto(principal))

    async def GetMe(
        self, request: auth_pb2.GetMeRequest, context: Context
    ) -> auth_pb2.GetMeResponse:
        me = await self._admin.me(convert.caller_from_proto(request.caller, allow_oidc=True))
        return auth_pb2.GetMeResponse(
            user=auth_pb2.User(id=me.user.id, email=me.user.email) if me.user else None,
            team=convert.team_to_proto(me.team),
            role=convert.ROLES[me.team.role],
            project_id=me.principal.project_id,
            key_id=me.principal.key_id,
            auth_method=convert.METHODS[me.principal.auth_method],
        )

    async def ListTeams(
        self, request: auth_pb2.ListTeamsRequest, context: Context
    ) -> auth_pb2.ListTeamsResponse:
        page = await self._admin.list_teams(
            convert.caller_from_proto(request.caller), convert.page_from_proto(request.page)
        )
        return auth_pb2.ListTeamsResponse(
            teams=[convert.team_to_proto(t) for t in page.items],
            next_page_token=convert.page_token(page.next_after),
        )

    async def CreateTeam(
        self, request: auth_pb2.CreateTeamRequest, context: Context
    ) -> auth_pb2.CreateTeamResponse:
        team = await self._admin.create_team(
            convert.caller_from_proto(request.caller), request.slug, request.name
        )
        return auth_pb2.CreateTeamResponse(team=convert.team_to_proto(team))

    async def GetTeam(
        self, request: auth_pb2.GetTeamRequest, context: Context
    ) -> auth_pb2.GetTeamResponse:
        team = await self._admin.get_team(
            convert.caller_from_proto(request.caller), request.team_id
        )
        return auth_pb2.GetTeamResponse(team=convert.team_to_proto(team))

    async def UpdateTeam(
        self, request: auth_pb2.UpdateTeamRequest, context: Context
    ) -> auth_pb2.UpdateTeamResponse:
        team = await self._admin.update_team(
            convert.caller_from_proto(request.caller),
            request.team_id,
            request.slug if request.HasField("slug") else None,
            request.name if request.HasField("name") else None,
        )
        return auth_pb2.UpdateTeamResponse(team=convert.team_to_proto(team))

    async def DeleteTeam(
        self, request: auth_pb2.DeleteTeamRequest, context: Context
    ) -> auth_pb2.DeleteTeamResponse:
        await self._admin.delete_team(convert.caller_from_proto(request.caller), request.team_id)
        return auth_pb2.DeleteTeamResponse()

    async def ListMembers(
        self, request: auth_pb2.ListMembersRequest, context: Context
    ) -> auth_pb2.ListMembersResponse:
        page = await self._admin.list_members(
            convert.caller_from_proto(request.caller),
            request.team_id,
            convert.page_from_proto(request.page),
        )
        return auth_pb2.ListMembersResponse(
            members=[convert.member_to_proto(m) for m in page.items],
            next_page_token=convert.page_token(page.next_after),
        )

    async def AddMember(
        self, request: auth_pb2.AddMemberRequest, context: Context
    ) -> auth_pb2.AddMemberResponse:
        member = await self._admin.add_member(
            convert.caller_from_proto(request.caller),
            request.team_id,
            request.email,
            convert.role_from_proto(request.role),
        )
        return auth_pb2.AddMemberResponse(member=convert.member_to_proto(member))

    async def UpdateMember(
        self, request: auth_pb2.UpdateMemberRequest, context: Context
    ) -> auth_pb2.UpdateMemberResponse:
        member = await self._admin.update_member(
            convert.caller_from_proto(request.caller),
            request.team_id,
            request.user_id,
            convert.role_from_proto(request.role),
        )
        return auth_pb2.UpdateMemberResponse(member=convert.member_to_proto(member))

    async def RemoveMember(
        self, request: auth_pb2.RemoveMemberRequest, context: Context
    ) -> auth_pb2.RemoveMemberResponse:
        await self._admin.remove_member(
            convert.caller_from_proto(request.caller), request.team_id, request.user_id
        )
        return auth_pb2.RemoveMemberResponse()

    async def ListProjects(
        self, request: auth_pb2.ListProjectsRequest, context: Context
    ) -> auth_pb2.ListProjectsResponse:
        page = await self._admin.list_projects(
            convert.caller_from_proto(request.caller),
            request.team_id,
            convert.page_from_proto(request.page),
        )
        return auth_pb2.ListProjectsResponse(
            projects=[convert.project_to_proto(p) for p in page.items],
            next_page_token=convert.page_token(page.next_after),
        )

    async def CreateProject(
        self, request: auth_pb2.CreateProjectRequest, context: Context
    ) -> auth_pb2.CreateProjectResponse:
        project = await self._admin.create_project(
            convert.caller_from_proto(request.caller), request.team_id, request.name
        )
        return auth_pb2.CreateProjectResponse(project=convert.project_to_proto(project))

    async def DeleteProject(
        self, request: auth_pb2.DeleteProjectRequest, context: Context
    ) -> auth_pb2.DeleteProjectResponse:
        await self._admin.delete_project(
            convert.caller_from_proto(request.caller), request.team_id, request.project_id
        )
        return auth_pb2.DeleteProjectResponse()

    async def ListApiKeys(
        self, request: auth_pb2.ListApiKeysRequest, context: Context
    ) -> auth_pb2.ListApiKeysResponse:
        page = await self._admin.api_keys.list_keys(
            convert.caller_from_proto(request.caller),
            request.team_id,
            request.include_revoked,
            convert.page_from_proto(request.page),
        )
        return auth_pb2.ListApiKeysResponse(
            api_keys=[convert.api_key_to_proto(k) for k in page.items],
            next_page_token=convert.page_token(page.next_after),
        )

    async def CreateApiKey(
        self, request: auth_pb2.CreateApiKeyRequest, context: Context
    ) -> auth_pb2.CreateApiKeyResponse:
        issued = await self._admin.api_keys.create_key(
            convert.caller_from_proto(request.caller),
            request.name,
            team_id=request.team_id,
            project_id=request.project_id,
            user_id=request.user_id,
            expires_at=request.expires_at.ToDatetime(UTC)
            if request.HasField("expires_at")
            else None,
        )
        return auth_pb2.CreateApiKeyResponse(
            api_key=convert.api_key_to_proto(issued.info), key=issued.key
        )

    async def RevokeApiKey(
        self, request: auth_pb2.RevokeApiKeyRequest, context: Context
    ) -> auth_pb2.RevokeApiKeyResponse:
        await self._admin.api_keys.revoke_key(
            convert.caller_from_proto(request.caller), request.key_id
        )
        return auth_pb2.RevokeApiKeyResponse()

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
