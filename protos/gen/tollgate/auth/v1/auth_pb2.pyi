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
    __slots__ = ("team_id", "team_slug", "project_id", "key_id", "user_id", "role", "auth_method", "scopes")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_SLUG_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    AUTH_METHOD_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    team_slug: str
    project_id: str
    key_id: str
    user_id: str
    role: Role
    auth_method: AuthMethod
    scopes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, team_id: _Optional[str] = ..., team_slug: _Optional[str] = ..., project_id: _Optional[str] = ..., key_id: _Optional[str] = ..., user_id: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., auth_method: _Optional[_Union[AuthMethod, str]] = ..., scopes: _Optional[_Iterable[str]] = ...) -> None: ...

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
