"""The auth service's domain errors: gRPC status, reason and the OpenAI error ``code``.

``openai_code`` is what the ext_authz answer puts in the OpenAI envelope; over the
``AuthService`` RPCs the edge maps the status itself (internal-contracts "Errors").
"""

from __future__ import annotations

from tollgate_common.errors import Unauthenticated


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
        super().__init__("OIDC tokens are not supported yet; use an API key.")
