"""Envoy's ``envoy.service.auth.v3.Authorization/Check``: admit a request or answer 401.

Admitted requests get the identity headers of docs/internal-contracts.md and lose their
credential headers (and, for a credential that expires, ``dynamic_metadata.expiresAt``); refused ones get the OpenAI error envelope (Anthropic's on the Messages
API's paths, docs/messages.md): 401 without a valid credential, 403 for a role that may not
call inference on an inference path (docs/permissions.md). Hot
path: no DB access on a cache hit, no logging above DEBUG.

Two callers: Envoy (the admin API and every other route it authorizes) and the edge, which
asks on a miss of its own cache for the hot model routes (docs/architecture.md, "Trust").
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, Final

import grpc
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2 as pb
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2_grpc as pb_grpc
from tollgate_common.context import REQUEST_ID_METADATA, request_id_var

from tollgate_auth.access.permissions import Action, allows, is_inference_path, permitted_actions
from tollgate_auth.domain import Principal
from tollgate_auth.errors import AuthenticationFailed, MissingCredential
from tollgate_auth.keys.credentials import CredentialSource, extract_credential
from tollgate_auth.keys.service import AuthService

log = logging.getLogger(__name__)

SERVICE_NAME: Final = "envoy.service.auth.v3.Authorization"

# google.rpc.Code values carried in CheckResponse.status.
_OK: Final = 0
_PERMISSION_DENIED: Final = 7
_UNAVAILABLE: Final = 14
_UNAUTHENTICATED: Final = 16

_OVERWRITE: Final = pb.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
_CREDENTIAL_HEADERS: Final = ("authorization", "x-api-key")


def _header(key: str, value: str) -> pb.HeaderValueOption:
    return pb.HeaderValueOption(
        header=pb.HeaderValue(key=key, value=value), append_action=_OVERWRITE
    )


def allowed(principal: Principal) -> pb.CheckResponse:
    """Admit the request as ``principal``: identity headers in, credential headers out."""
    return pb.CheckResponse(
        status=pb.Status(code=_OK),
        ok_response=pb.OkHttpResponse(
            headers=[
                _header("x-tollgate-team-id", principal.team_id),
                _header("x-tollgate-team-slug", principal.team_slug),
                _header("x-tollgate-user-id", principal.user_id),
                _header("x-tollgate-key-id", principal.key_id),
                _header("x-tollgate-project-id", principal.project_id),
                _header("x-tollgate-role", principal.role.value),
                _header("x-tollgate-auth-method", principal.auth_method.value),
                _header("x-tollgate-operator", "true" if principal.operator else "false"),
                _header(
                    "x-tollgate-permissions",
                    ",".join(
                        action.value
                        for action in permitted_actions(principal.role, principal.operator)
                    ),
                ),
            ],
            headers_to_remove=_CREDENTIAL_HEADERS,
        ),
    )


EXPIRES_AT: Final = "expiresAt"


def with_expiry(answer: pb.CheckResponse, expires_at: datetime) -> pb.CheckResponse:
    """``answer`` saying when its credential stops working by itself (``dynamic_metadata``
    ``expiresAt``, unix seconds): the edge, which caches the answer, keeps it no longer.
    Envoy ignores it."""
    copy = pb.CheckResponse()
    copy.CopyFrom(answer)
    copy.dynamic_metadata[EXPIRES_AT] = expires_at.timestamp()
    return copy


# Paths of the Anthropic Messages API, whose clients read Anthropic's error envelope.
_ANTHROPIC_PATH: Final = "/v1/messages"
_ANTHROPIC_TYPES: Final = {
    "service_unavailable": "overloaded_error",
    "forbidden": "permission_error",
}


def speaks_anthropic(path: str) -> bool:
    path = path.partition("?")[0]
    return path == _ANTHROPIC_PATH or path.startswith(_ANTHROPIC_PATH + "/")


def _denied(
    grpc_code: int,
    http_status: int,
    message: str,
    error_type: str,
    code: str,
    anthropic: bool = False,
) -> pb.CheckResponse:
    envelope: dict[str, Any] = {
        "error": {"message": message, "type": error_type, "param": None, "code": code}
    }
    if anthropic:
        anthropic_type = _ANTHROPIC_TYPES.get(error_type, error_type)
        envelope = {"type": "error", "error": {"type": anthropic_type, "message": message}}
    headers = [_header("content-type", "application/json")]
    if http_status == 401:
        headers.append(_header("www-authenticate", "Bearer"))
    return pb.CheckResponse(
        status=pb.Status(code=grpc_code, message=message),
        denied_response=pb.DeniedHttpResponse(
            status=pb.HttpStatus(code=http_status),
            headers=headers,
            body=json.dumps(envelope, separators=(",", ":")),
        ),
    )


def denied(error: AuthenticationFailed, anthropic: bool = False) -> pb.CheckResponse:
    """Refuse with 401 and the OpenAI envelope (``type: authentication_error``), or Anthropic's
    on its API's paths."""
    return _denied(
        _UNAUTHENTICATED,
        401,
        error.message,
        "authentication_error",
        error.openai_code,
        anthropic,
    )


def forbidden(principal: Principal, anthropic: bool = False) -> pb.CheckResponse:
    """Refuse with 403: the caller's role may not call inference."""
    return _denied(
        _PERMISSION_DENIED,
        403,
        f"a team {principal.role.value} may not call inference",
        "forbidden",
        "forbidden",
        anthropic,
    )


def unavailable(anthropic: bool = False) -> pb.CheckResponse:
    """Refuse with 503 when the credential could not be checked (e.g. database down)."""
    return _denied(
        _UNAVAILABLE,
        503,
        "The authentication service is temporarily unavailable. Please retry.",
        "service_unavailable",
        "service_unavailable",
        anthropic,
    )


class AuthorizationServicer(pb_grpc.AuthorizationServicer):
    """Envoy's ext_authz gRPC service on the auth server."""

    def __init__(self, service: AuthService, max_cached_answers: int = 10_000) -> None:
        self._service = service
        # The OK answer depends only on the principal: build it once per principal.
        self._answers: dict[Principal, pb.CheckResponse] = {}
        self._refusals: dict[tuple[Principal, bool], pb.CheckResponse] = {}
        self._max_cached_answers = max_cached_answers

    def _allowed(self, principal: Principal) -> pb.CheckResponse:
        answer = self._answers.get(principal)
        if answer is None:
            if len(self._answers) >= self._max_cached_answers:
                self._answers.clear()
            answer = self._answers[principal] = allowed(principal)
        return answer

    def _forbidden(self, principal: Principal, anthropic: bool) -> pb.CheckResponse:
        answer = self._refusals.get((principal, anthropic))
        if answer is None:
            if len(self._refusals) >= self._max_cached_answers:
                self._refusals.clear()
            answer = self._refusals[principal, anthropic] = forbidden(principal, anthropic)
        return answer

    async def Check(
        self, request: pb.CheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.CheckResponse:
        headers = request.attributes.request.http.headers
        request_id = headers.get(REQUEST_ID_METADATA)
        if request_id:
            request_id_var.set(request_id)  # the error interceptor resets it after the call
        credential = extract_credential(headers)
        try:
            if credential is None or not credential.value:
                raise MissingCredential()
            if credential.source is CredentialSource.API_KEY_HEADER:
                accepted = await self._service.authenticate_api_key_until(credential.value)
            else:
                accepted = await self._service.authenticate_bearer_until(credential.value)
        except AuthenticationFailed as error:
            log.debug("ext_authz: refused (%s)", error.reason)
            return denied(error, speaks_anthropic(request.attributes.request.http.path))
        except Exception:
            log.exception("ext_authz: could not check the credential")
            return unavailable(speaks_anthropic(request.attributes.request.http.path))
        principal = accepted.principal
        path = request.attributes.request.http.path
        if not allows(principal.role, Action.CALL_INFERENCE) and is_inference_path(path):
            return self._forbidden(principal, speaks_anthropic(path))
        answer = self._allowed(principal)
        if accepted.expires_at is not None:
            answer = with_expiry(answer, accepted.expires_at)
        return answer
