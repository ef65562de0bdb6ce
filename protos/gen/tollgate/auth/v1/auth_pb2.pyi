import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_OWNER: _ClassVar[Role]
    ROLE_MEMBER: _ClassVar[Role]
    ROLE_VIEWER: _ClassVar[Role]

class AuthMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUTH_METHOD_UNSPECIFIED: _ClassVar[AuthMethod]
    AUTH_METHOD_API_KEY: _ClassVar[AuthMethod]
    AUTH_METHOD_OIDC: _ClassVar[AuthMethod]
ROLE_UNSPECIFIED: Role
ROLE_OWNER: Role
ROLE_MEMBER: Role
ROLE_VIEWER: Role
AUTH_METHOD_UNSPECIFIED: AuthMethod
AUTH_METHOD_API_KEY: AuthMethod
AUTH_METHOD_OIDC: AuthMethod

class Principal(_message.Message):
    __slots__ = ("team_id", "team_slug", "project_id", "key_id", "user_id", "role", "auth_method", "scopes", "operator")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_SLUG_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    AUTH_METHOD_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    team_slug: str
    project_id: str
    key_id: str
    user_id: str
    role: Role
    auth_method: AuthMethod
    scopes: _containers.RepeatedScalarFieldContainer[str]
    operator: bool
    def __init__(self, team_id: _Optional[str] = ..., team_slug: _Optional[str] = ..., project_id: _Optional[str] = ..., key_id: _Optional[str] = ..., user_id: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., auth_method: _Optional[_Union[AuthMethod, str]] = ..., scopes: _Optional[_Iterable[str]] = ..., operator: _Optional[bool] = ...) -> None: ...

class AuthenticateRequest(_message.Message):
    __slots__ = ("credential",)
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    credential: str
    def __init__(self, credential: _Optional[str] = ...) -> None: ...

class AuthenticateResponse(_message.Message):
    __slots__ = ("principal",)
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    principal: Principal
    def __init__(self, principal: _Optional[_Union[Principal, _Mapping]] = ...) -> None: ...

class User(_message.Message):
    __slots__ = ("id", "email")
    ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    id: str
    email: str
    def __init__(self, id: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class Team(_message.Message):
    __slots__ = ("id", "slug", "name", "created_at", "role", "free_tier")
    ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    FREE_TIER_FIELD_NUMBER: _ClassVar[int]
    id: str
    slug: str
    name: str
    created_at: _timestamp_pb2.Timestamp
    role: Role
    free_tier: bool
    def __init__(self, id: _Optional[str] = ..., slug: _Optional[str] = ..., name: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., role: _Optional[_Union[Role, str]] = ..., free_tier: _Optional[bool] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("user_id", "email", "role", "joined_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    JOINED_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    email: str
    role: Role
    joined_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., email: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., joined_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Project(_message.Message):
    __slots__ = ("id", "team_id", "name", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    team_id: str
    name: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., team_id: _Optional[str] = ..., name: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ApiKey(_message.Message):
    __slots__ = ("id", "prefix", "name", "team_id", "project_id", "user_id", "created_at", "expires_at", "revoked_at", "last_used_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    prefix: str
    name: str
    team_id: str
    project_id: str
    user_id: str
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    last_used_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., prefix: _Optional[str] = ..., name: _Optional[str] = ..., team_id: _Optional[str] = ..., project_id: _Optional[str] = ..., user_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PageRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetMeRequest(_message.Message):
    __slots__ = ("caller",)
    CALLER_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ...) -> None: ...

class GetMeResponse(_message.Message):
    __slots__ = ("user", "team", "role", "project_id", "key_id", "auth_method", "operator")
    USER_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    AUTH_METHOD_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    user: User
    team: Team
    role: Role
    project_id: str
    key_id: str
    auth_method: AuthMethod
    operator: bool
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., team: _Optional[_Union[Team, _Mapping]] = ..., role: _Optional[_Union[Role, str]] = ..., project_id: _Optional[str] = ..., key_id: _Optional[str] = ..., auth_method: _Optional[_Union[AuthMethod, str]] = ..., operator: _Optional[bool] = ...) -> None: ...

class ListTeamsRequest(_message.Message):
    __slots__ = ("caller", "page")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    page: PageRequest
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., page: _Optional[_Union[PageRequest, _Mapping]] = ...) -> None: ...

class ListTeamsResponse(_message.Message):
    __slots__ = ("teams", "next_page_token")
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    teams: _containers.RepeatedCompositeFieldContainer[Team]
    next_page_token: str
    def __init__(self, teams: _Optional[_Iterable[_Union[Team, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateTeamRequest(_message.Message):
    __slots__ = ("caller", "slug", "name")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    slug: str
    name: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., slug: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CreateTeamResponse(_message.Message):
    __slots__ = ("team",)
    TEAM_FIELD_NUMBER: _ClassVar[int]
    team: Team
    def __init__(self, team: _Optional[_Union[Team, _Mapping]] = ...) -> None: ...

class GetTeamRequest(_message.Message):
    __slots__ = ("caller", "team_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ...) -> None: ...

class GetTeamResponse(_message.Message):
    __slots__ = ("team",)
    TEAM_FIELD_NUMBER: _ClassVar[int]
    team: Team
    def __init__(self, team: _Optional[_Union[Team, _Mapping]] = ...) -> None: ...

class UpdateTeamRequest(_message.Message):
    __slots__ = ("caller", "team_id", "slug", "name")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    slug: str
    name: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., slug: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class UpdateTeamResponse(_message.Message):
    __slots__ = ("team",)
    TEAM_FIELD_NUMBER: _ClassVar[int]
    team: Team
    def __init__(self, team: _Optional[_Union[Team, _Mapping]] = ...) -> None: ...

class DeleteTeamRequest(_message.Message):
    __slots__ = ("caller", "team_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ...) -> None: ...

class DeleteTeamResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMembersRequest(_message.Message):
    __slots__ = ("caller", "team_id", "page")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    page: PageRequest
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., page: _Optional[_Union[PageRequest, _Mapping]] = ...) -> None: ...

class ListMembersResponse(_message.Message):
    __slots__ = ("members", "next_page_token")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    next_page_token: str
    def __init__(self, members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AddMemberRequest(_message.Message):
    __slots__ = ("caller", "team_id", "email", "role")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    email: str
    role: Role
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., email: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ...) -> None: ...

class AddMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: Member
    def __init__(self, member: _Optional[_Union[Member, _Mapping]] = ...) -> None: ...

class UpdateMemberRequest(_message.Message):
    __slots__ = ("caller", "team_id", "user_id", "role")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    user_id: str
    role: Role
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., user_id: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ...) -> None: ...

class UpdateMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: Member
    def __init__(self, member: _Optional[_Union[Member, _Mapping]] = ...) -> None: ...

class RemoveMemberRequest(_message.Message):
    __slots__ = ("caller", "team_id", "user_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    user_id: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class RemoveMemberResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListProjectsRequest(_message.Message):
    __slots__ = ("caller", "team_id", "page")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    page: PageRequest
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., page: _Optional[_Union[PageRequest, _Mapping]] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ("projects", "next_page_token")
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[Project]
    next_page_token: str
    def __init__(self, projects: _Optional[_Iterable[_Union[Project, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateProjectRequest(_message.Message):
    __slots__ = ("caller", "team_id", "name")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    name: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CreateProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class DeleteProjectRequest(_message.Message):
    __slots__ = ("caller", "team_id", "project_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    project_id: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class DeleteProjectResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListApiKeysRequest(_message.Message):
    __slots__ = ("caller", "team_id", "include_revoked", "page")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REVOKED_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    include_revoked: bool
    page: PageRequest
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., include_revoked: _Optional[bool] = ..., page: _Optional[_Union[PageRequest, _Mapping]] = ...) -> None: ...

class ListApiKeysResponse(_message.Message):
    __slots__ = ("api_keys", "next_page_token")
    API_KEYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    api_keys: _containers.RepeatedCompositeFieldContainer[ApiKey]
    next_page_token: str
    def __init__(self, api_keys: _Optional[_Iterable[_Union[ApiKey, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateApiKeyRequest(_message.Message):
    __slots__ = ("caller", "name", "team_id", "project_id", "user_id", "expires_at")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    name: str
    team_id: str
    project_id: str
    user_id: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., name: _Optional[str] = ..., team_id: _Optional[str] = ..., project_id: _Optional[str] = ..., user_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateApiKeyResponse(_message.Message):
    __slots__ = ("api_key", "key")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: ApiKey
    key: str
    def __init__(self, api_key: _Optional[_Union[ApiKey, _Mapping]] = ..., key: _Optional[str] = ...) -> None: ...

class RevokeApiKeyRequest(_message.Message):
    __slots__ = ("caller", "key_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    key_id: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., key_id: _Optional[str] = ...) -> None: ...

class RevokeApiKeyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ByokTest(_message.Message):
    __slots__ = ("ok", "status_code", "message", "at")
    OK_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    status_code: int
    message: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, ok: _Optional[bool] = ..., status_code: _Optional[int] = ..., message: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ByokCredential(_message.Message):
    __slots__ = ("provider", "enabled", "hint", "created_at", "updated_at", "last_test")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_TEST_FIELD_NUMBER: _ClassVar[int]
    provider: str
    enabled: bool
    hint: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    last_test: ByokTest
    def __init__(self, provider: _Optional[str] = ..., enabled: _Optional[bool] = ..., hint: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_test: _Optional[_Union[ByokTest, _Mapping]] = ...) -> None: ...

class ListByokCredentialsRequest(_message.Message):
    __slots__ = ("caller", "team_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ...) -> None: ...

class ListByokCredentialsResponse(_message.Message):
    __slots__ = ("credentials",)
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    credentials: _containers.RepeatedCompositeFieldContainer[ByokCredential]
    def __init__(self, credentials: _Optional[_Iterable[_Union[ByokCredential, _Mapping]]] = ...) -> None: ...

class PutByokCredentialRequest(_message.Message):
    __slots__ = ("caller", "team_id", "provider", "credentials", "enabled")
    class CredentialsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    provider: str
    credentials: _containers.ScalarMap[str, str]
    enabled: bool
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., provider: _Optional[str] = ..., credentials: _Optional[_Mapping[str, str]] = ..., enabled: _Optional[bool] = ...) -> None: ...

class PutByokCredentialResponse(_message.Message):
    __slots__ = ("credential", "created")
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    credential: ByokCredential
    created: bool
    def __init__(self, credential: _Optional[_Union[ByokCredential, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class UpdateByokCredentialRequest(_message.Message):
    __slots__ = ("caller", "team_id", "provider", "enabled")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    provider: str
    enabled: bool
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., provider: _Optional[str] = ..., enabled: _Optional[bool] = ...) -> None: ...

class UpdateByokCredentialResponse(_message.Message):
    __slots__ = ("credential",)
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    credential: ByokCredential
    def __init__(self, credential: _Optional[_Union[ByokCredential, _Mapping]] = ...) -> None: ...

class DeleteByokCredentialRequest(_message.Message):
    __slots__ = ("caller", "team_id", "provider")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    provider: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., provider: _Optional[str] = ...) -> None: ...

class DeleteByokCredentialResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetByokSecretRequest(_message.Message):
    __slots__ = ("team_id", "provider", "include_disabled")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DISABLED_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    provider: str
    include_disabled: bool
    def __init__(self, team_id: _Optional[str] = ..., provider: _Optional[str] = ..., include_disabled: _Optional[bool] = ...) -> None: ...

class GetByokSecretResponse(_message.Message):
    __slots__ = ("found", "credentials")
    class CredentialsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FOUND_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    found: bool
    credentials: _containers.ScalarMap[str, str]
    def __init__(self, found: _Optional[bool] = ..., credentials: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListByokSecretsRequest(_message.Message):
    __slots__ = ("team_id",)
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    def __init__(self, team_id: _Optional[str] = ...) -> None: ...

class ByokSecret(_message.Message):
    __slots__ = ("provider", "credentials")
    class CredentialsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    provider: str
    credentials: _containers.ScalarMap[str, str]
    def __init__(self, provider: _Optional[str] = ..., credentials: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListByokSecretsResponse(_message.Message):
    __slots__ = ("secrets",)
    SECRETS_FIELD_NUMBER: _ClassVar[int]
    secrets: _containers.RepeatedCompositeFieldContainer[ByokSecret]
    def __init__(self, secrets: _Optional[_Iterable[_Union[ByokSecret, _Mapping]]] = ...) -> None: ...

class AuthorizeByokTestRequest(_message.Message):
    __slots__ = ("caller", "team_id", "provider", "with_credentials")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    WITH_CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    provider: str
    with_credentials: bool
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., provider: _Optional[str] = ..., with_credentials: _Optional[bool] = ...) -> None: ...

class AuthorizeByokTestResponse(_message.Message):
    __slots__ = ("team_id",)
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    def __init__(self, team_id: _Optional[str] = ...) -> None: ...

class RecordByokTestRequest(_message.Message):
    __slots__ = ("caller", "team_id", "provider", "stored", "result")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    provider: str
    stored: bool
    result: ByokTest
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., provider: _Optional[str] = ..., stored: _Optional[bool] = ..., result: _Optional[_Union[ByokTest, _Mapping]] = ...) -> None: ...

class RecordByokTestResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class IssueOidcTokenRequest(_message.Message):
    __slots__ = ("caller", "team_id", "project_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    project_id: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class IssueOidcTokenResponse(_message.Message):
    __slots__ = ("token", "expires_at")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    token: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, token: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetJwksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetJwksResponse(_message.Message):
    __slots__ = ("issuer", "jwks_json")
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    JWKS_JSON_FIELD_NUMBER: _ClassVar[int]
    issuer: str
    jwks_json: str
    def __init__(self, issuer: _Optional[str] = ..., jwks_json: _Optional[str] = ...) -> None: ...

class OidcIssuer(_message.Message):
    __slots__ = ("id", "issuer", "jwks_uri", "jwks_json", "audience", "team_claim_kind", "team_claim", "project_claim", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    JWKS_URI_FIELD_NUMBER: _ClassVar[int]
    JWKS_JSON_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    TEAM_CLAIM_KIND_FIELD_NUMBER: _ClassVar[int]
    TEAM_CLAIM_FIELD_NUMBER: _ClassVar[int]
    PROJECT_CLAIM_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    issuer: str
    jwks_uri: str
    jwks_json: str
    audience: str
    team_claim_kind: str
    team_claim: str
    project_claim: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., issuer: _Optional[str] = ..., jwks_uri: _Optional[str] = ..., jwks_json: _Optional[str] = ..., audience: _Optional[str] = ..., team_claim_kind: _Optional[str] = ..., team_claim: _Optional[str] = ..., project_claim: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListOidcIssuersRequest(_message.Message):
    __slots__ = ("caller", "team_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ...) -> None: ...

class ListOidcIssuersResponse(_message.Message):
    __slots__ = ("issuers",)
    ISSUERS_FIELD_NUMBER: _ClassVar[int]
    issuers: _containers.RepeatedCompositeFieldContainer[OidcIssuer]
    def __init__(self, issuers: _Optional[_Iterable[_Union[OidcIssuer, _Mapping]]] = ...) -> None: ...

class AddOidcIssuerRequest(_message.Message):
    __slots__ = ("caller", "team_id", "issuer")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    issuer: OidcIssuer
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., issuer: _Optional[_Union[OidcIssuer, _Mapping]] = ...) -> None: ...

class AddOidcIssuerResponse(_message.Message):
    __slots__ = ("issuer",)
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    issuer: OidcIssuer
    def __init__(self, issuer: _Optional[_Union[OidcIssuer, _Mapping]] = ...) -> None: ...

class DeleteOidcIssuerRequest(_message.Message):
    __slots__ = ("caller", "team_id", "issuer_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    issuer_id: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ..., issuer_id: _Optional[str] = ...) -> None: ...

class DeleteOidcIssuerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Operator(_message.Message):
    __slots__ = ("user_id", "email", "bootstrap")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    email: str
    bootstrap: bool
    def __init__(self, user_id: _Optional[str] = ..., email: _Optional[str] = ..., bootstrap: _Optional[bool] = ...) -> None: ...

class ListOperatorsRequest(_message.Message):
    __slots__ = ("caller",)
    CALLER_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ...) -> None: ...

class ListOperatorsResponse(_message.Message):
    __slots__ = ("operators",)
    OPERATORS_FIELD_NUMBER: _ClassVar[int]
    operators: _containers.RepeatedCompositeFieldContainer[Operator]
    def __init__(self, operators: _Optional[_Iterable[_Union[Operator, _Mapping]]] = ...) -> None: ...

class SetOperatorRequest(_message.Message):
    __slots__ = ("caller", "user_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    user_id: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., user_id: _Optional[str] = ...) -> None: ...

class SetOperatorResponse(_message.Message):
    __slots__ = ("operator", "created")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    operator: Operator
    created: bool
    def __init__(self, operator: _Optional[_Union[Operator, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class RemoveOperatorRequest(_message.Message):
    __slots__ = ("caller", "user_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    user_id: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., user_id: _Optional[str] = ...) -> None: ...

class RemoveOperatorResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AuthorizeCreditGrantRequest(_message.Message):
    __slots__ = ("caller", "team_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    team_id: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., team_id: _Optional[str] = ...) -> None: ...

class AuthorizeCreditGrantResponse(_message.Message):
    __slots__ = ("team_id",)
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    def __init__(self, team_id: _Optional[str] = ...) -> None: ...
