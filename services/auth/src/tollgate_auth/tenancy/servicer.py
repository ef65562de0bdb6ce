"""The teams, members, projects and API keys RPCs of ``tollgate.auth.v1.AuthService``: proto ⇄
domain, nothing else."""

from __future__ import annotations

from datetime import UTC

from tollgate.auth.v1 import auth_pb2

from tollgate_auth import convert
from tollgate_auth.convert import Context
from tollgate_auth.tenancy.api_keys import ApiKeyAdmin
from tollgate_auth.tenancy.service import AdminService


class TenancyRpcs:
    """Mixed into :class:`tollgate_auth.servicer.AuthServicer`, which sets the services."""

    _admin: AdminService
    _api_keys: ApiKeyAdmin

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
            operator=me.operator,
        )

    async def ListTeams(
        self, request: auth_pb2.ListTeamsRequest, context: Context
    ) -> auth_pb2.ListTeamsResponse:
        page = await self._admin.list_teams(
            convert.caller_from_proto(request.caller), convert.page_from_proto(request.page)
        )
        teams, token = convert.page_to_proto(page, convert.team_to_proto)
        return auth_pb2.ListTeamsResponse(teams=teams, next_page_token=token)

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
        members, token = convert.page_to_proto(page, convert.member_to_proto)
        return auth_pb2.ListMembersResponse(members=members, next_page_token=token)

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
        projects, token = convert.page_to_proto(page, convert.project_to_proto)
        return auth_pb2.ListProjectsResponse(projects=projects, next_page_token=token)

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
        page = await self._api_keys.list_keys(
            convert.caller_from_proto(request.caller),
            request.team_id,
            request.include_revoked,
            convert.page_from_proto(request.page),
        )
        api_keys, token = convert.page_to_proto(page, convert.api_key_to_proto)
        return auth_pb2.ListApiKeysResponse(api_keys=api_keys, next_page_token=token)

    async def CreateApiKey(
        self, request: auth_pb2.CreateApiKeyRequest, context: Context
    ) -> auth_pb2.CreateApiKeyResponse:
        issued = await self._api_keys.create_key(
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
        await self._api_keys.revoke_key(convert.caller_from_proto(request.caller), request.key_id)
        return auth_pb2.RevokeApiKeyResponse()
