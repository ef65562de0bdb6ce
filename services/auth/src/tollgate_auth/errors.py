"""The auth service's domain errors: gRPC status, reason and the OpenAI error ``code``.

``openai_code`` is what the ext_authz answer puts in the OpenAI envelope; over the
``AuthService`` RPCs the edge maps the status itself (internal-contracts "Errors").
"""

from __future__ import annotations

import grpc
from tollgate_common.errors import DomainError, NotFound, PermissionDenied, Unauthenticated


class AuthenticationFailed(Unauthenticated):
    """Base of every refused credential (UNAUTHENTICATED → HTTP 401)."""

    reason = "UNAUTHENTICATED"
    openai_code = "invalid_api_key"


class MissingCredential(AuthenticationFailed):
    reason = "MISSING_API_KEY"
    openai_code = "missing_api_key"

    def __init__(self) -> None:
        super().__init__(
            "You didn't provide an API key. An API key is required: send it as "
            "'Authorization: Bearer YOUR_KEY' or in the 'x-api-key' header."
        )


class InvalidApiKey(AuthenticationFailed):
    reason = "INVALID_API_KEY"

    def __init__(self) -> None:
        super().__init__("Incorrect API key provided.")


class ApiKeyRevoked(AuthenticationFailed):
    reason = "API_KEY_REVOKED"

    def __init__(self) -> None:
        super().__init__("The API key provided has been revoked.")


class ApiKeyExpired(AuthenticationFailed):
    reason = "API_KEY_EXPIRED"

    def __init__(self) -> None:
        super().__init__("The API key provided has expired.")


class InvalidToken(AuthenticationFailed):
    reason = "INVALID_TOKEN"
    openai_code = "invalid_token"

    def __init__(self) -> None:
        super().__init__("The OIDC token provided is not valid.")


class OidcTokenExpired(AuthenticationFailed):
    reason = "TOKEN_EXPIRED"
    openai_code = "invalid_token"

    def __init__(self) -> None:
        super().__init__("The OIDC token provided has expired.")


class Conflict(DomainError):
    """The change clashes with what exists (ALREADY_EXISTS → HTTP 409)."""

    code = grpc.StatusCode.ALREADY_EXISTS
    reason = "CONFLICT"


class SlugTaken(Conflict):
    reason = "SLUG_TAKEN"

    def __init__(self, slug: str) -> None:
        super().__init__(f"the team slug {slug!r} is taken", metadata={"param": "slug"})


class AlreadyMember(Conflict):
    reason = "ALREADY_MEMBER"

    def __init__(self) -> None:
        super().__init__("the user is already a member of this team", metadata={"param": "email"})


class LastOwner(DomainError):
    """The team would be left without an owner (ABORTED → HTTP 409)."""

    code = grpc.StatusCode.ABORTED
    reason = "LAST_OWNER"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class LastMember(DomainError):
    code = grpc.StatusCode.ABORTED
    reason = "LAST_MEMBER"

    def __init__(self) -> None:
        super().__init__(
            "the last member cannot leave the team; delete the team instead "
            "(DELETE /v1/teams/{teamId})"
        )


class LastOperator(DomainError):
    """The installation would be left without an operator (ABORTED → HTTP 409)."""

    code = grpc.StatusCode.ABORTED
    reason = "LAST_OPERATOR"

    def __init__(self) -> None:
        super().__init__("the last operator cannot be demoted; make another user an operator first")


class BootstrapIdentity(DomainError):
    """The bootstrap identity stays whole: its user an operator and the owner of its team, the
    team itself undeleted (ABORTED → HTTP 409), so the installation can never lock itself out."""

    code = grpc.StatusCode.ABORTED


class BootstrapTeam(BootstrapIdentity):
    reason = "BOOTSTRAP_TEAM"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class BootstrapOperator(BootstrapIdentity):
    reason = "BOOTSTRAP_OPERATOR"

    def __init__(self) -> None:
        super().__init__("the bootstrap user (admin@localhost) is always an operator")


class UserNotFound(NotFound):
    reason = "USER_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("user not found", metadata={"param": "userId"})


class TeamNotFound(NotFound):
    reason = "TEAM_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("team not found", metadata={"param": "teamId"})


class MemberNotFound(NotFound):
    reason = "MEMBER_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("member not found", metadata={"param": "userId"})


class ProjectNotFound(NotFound):
    reason = "PROJECT_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("project not found", metadata={"param": "projectId"})


class ApiKeyNotFound(NotFound):
    reason = "API_KEY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("API key not found", metadata={"param": "keyId"})


class Forbidden(PermissionDenied):
    reason = "FORBIDDEN"


class ByokCredentialNotFound(NotFound):
    reason = "BYOK_CREDENTIAL_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("no BYOK credential for this provider", metadata={"param": "provider"})


class IssuerNotFound(NotFound):
    reason = "OIDC_ISSUER_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("trusted issuer not found", metadata={"param": "id"})
