"""Proto ⇄ domain values of ``tollgate.auth.v1`` (the servicer's vocabulary)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.auth.v1 import auth_pb2
from tollgate_common.errors import InvalidArgument, PermissionDenied

from tollgate_auth.domain import (
    ApiKeyInfo,
    AuthMethod,
    ByokCredential,
    Member,
    Operator,
    Page,
    PageRequest,
    Principal,
    Project,
    Role,
    TeamMembership,
    TrustedIssuer,
)

Context = grpc.aio.ServicerContext[Any, Any]
T = TypeVar("T")
P = TypeVar("P")

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200

ROLES: Final[Mapping[Role, auth_pb2.Role]] = MappingProxyType(
    {
        Role.OWNER: auth_pb2.ROLE_OWNER,
        Role.MEMBER: auth_pb2.ROLE_MEMBER,
        Role.VIEWER: auth_pb2.ROLE_VIEWER,
    }
)
_ROLES_BACK: Final[Mapping[int, Role]] = MappingProxyType({v: k for k, v in ROLES.items()})
METHODS: Final[Mapping[AuthMethod, auth_pb2.AuthMethod]] = MappingProxyType(
    {AuthMethod.API_KEY: auth_pb2.AUTH_METHOD_API_KEY, AuthMethod.OIDC: auth_pb2.AUTH_METHOD_OIDC}
)
_METHODS_BACK: Final[Mapping[int, AuthMethod]] = MappingProxyType(
    {v: k for k, v in METHODS.items()}
)


def timestamp(at: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(at.astimezone(UTC))
    return ts


def optional_timestamp(at: datetime | None) -> Timestamp | None:
    return timestamp(at) if at is not None else None


def role_from_proto(role: int) -> Role | None:
    return _ROLES_BACK.get(role)


def principal_to_proto(principal: Principal) -> auth_pb2.Principal:
    return auth_pb2.Principal(
        team_id=principal.team_id,
        team_slug=principal.team_slug,
        project_id=principal.project_id,
        key_id=principal.key_id,
        user_id=principal.user_id,
        role=ROLES[principal.role],
        auth_method=METHODS[principal.auth_method],
        operator=principal.operator,
    )


def caller_from_proto(caller: auth_pb2.Principal, *, allow_oidc: bool = False) -> Principal:
    """The caller an admin request names; its role is re-read from the database where used.
    OIDC tokens may only ask who they are (``allow_oidc``)."""
    if caller.auth_method == auth_pb2.AUTH_METHOD_OIDC and allow_oidc and caller.team_id:
        return Principal.of_oidc_token(caller.team_id, caller.team_slug, caller.project_id)
    if caller.auth_method == auth_pb2.AUTH_METHOD_OIDC:
        raise PermissionDenied("OIDC tokens call the gateway; use an API key to administer it")
    if not caller.user_id or not caller.team_id:
        raise InvalidArgument("the request names no caller", metadata={"param": "caller"})
    return Principal(
        team_id=caller.team_id,
        team_slug=caller.team_slug,
        user_id=caller.user_id,
        role=role_from_proto(caller.role) or Role.VIEWER,
        auth_method=_METHODS_BACK.get(caller.auth_method, AuthMethod.API_KEY),
        key_id=caller.key_id,
        project_id=caller.project_id,
    )


def page_from_proto(page: auth_pb2.PageRequest) -> PageRequest:
    size = page.page_size or DEFAULT_PAGE_SIZE
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidArgument(
            f"`limit` must be an integer from 1 to {MAX_PAGE_SIZE}", metadata={"param": "limit"}
        )
    after = ""
    if page.page_token:
        try:
            token = page.page_token.encode("ascii")
            padded = token + b"=" * (-len(token) % 4)
            after = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeError, ValueError):
            raise InvalidArgument("`cursor` is not valid", metadata={"param": "cursor"}) from None
        if not after or not after.isascii() or not after.isprintable():
            raise InvalidArgument("`cursor` is not valid", metadata={"param": "cursor"})
    return PageRequest(limit=size, after=after)


def page_token(after: str) -> str:
    return base64.urlsafe_b64encode(after.encode()).decode().rstrip("=") if after else ""


def page_to_proto(page: Page[T], item_to_proto: Callable[[T], P]) -> tuple[list[P], str]:
    """A page's items as protos and the token of the next page (empty on the last page)."""
    return [item_to_proto(item) for item in page.items], page_token(page.next_after)


def team_to_proto(membership: TeamMembership) -> auth_pb2.Team:
    team = membership.team
    return auth_pb2.Team(
        id=team.id,
        slug=team.slug,
        name=team.name,
        created_at=timestamp(team.created_at),
        role=ROLES[membership.role],
        free_tier=team.free_tier,
    )


def operator_to_proto(operator: Operator) -> auth_pb2.Operator:
    return auth_pb2.Operator(
        user_id=operator.user_id, email=operator.email, bootstrap=operator.bootstrap
    )


def member_to_proto(member: Member) -> auth_pb2.Member:
    return auth_pb2.Member(
        user_id=member.user_id,
        email=member.email,
        role=ROLES[member.role],
        joined_at=timestamp(member.joined_at),
    )


def project_to_proto(project: Project) -> auth_pb2.Project:
    return auth_pb2.Project(
        id=project.id,
        team_id=project.team_id,
        name=project.name,
        created_at=timestamp(project.created_at),
    )


def api_key_to_proto(key: ApiKeyInfo) -> auth_pb2.ApiKey:
    return auth_pb2.ApiKey(
        id=key.id,
        prefix=key.prefix,
        name=key.name,
        team_id=key.team_id,
        project_id=key.project_id or "",
        user_id=key.user_id,
        created_at=timestamp(key.created_at),
        expires_at=optional_timestamp(key.expires_at),
        revoked_at=optional_timestamp(key.revoked_at),
        last_used_at=optional_timestamp(key.last_used_at),
    )


def byok_to_proto(credential: ByokCredential) -> auth_pb2.ByokCredential:
    last = credential.last_test
    return auth_pb2.ByokCredential(
        provider=credential.provider,
        enabled=credential.enabled,
        hint=credential.hint,
        created_at=timestamp(credential.created_at),
        updated_at=timestamp(credential.updated_at),
        last_test=auth_pb2.ByokTest(
            ok=last.ok, status_code=last.status_code, message=last.message, at=timestamp(last.at)
        )
        if last is not None
        else None,
    )


def issuer_to_proto(issuer: TrustedIssuer) -> auth_pb2.OidcIssuer:
    return auth_pb2.OidcIssuer(
        id=issuer.id,
        issuer=issuer.issuer,
        jwks_uri=issuer.jwks_uri or "",
        jwks_json=issuer.jwks_json or "",
        audience=issuer.audience,
        team_claim_kind=issuer.team_claim_kind,
        team_claim=issuer.team_claim,
        project_claim=issuer.project_claim or "",
        created_at=timestamp(issuer.created_at),
    )
