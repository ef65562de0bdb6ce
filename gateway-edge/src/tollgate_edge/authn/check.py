"""Asking the auth service who a credential is: its ``Check`` (Envoy's ext_authz RPC), called by
the edge on a miss of its identity cache.

The edge asks about a neutral path (``/``, no inference endpoint), so a viewer's identity comes
back as well and the edge applies the inference rule itself (:mod:`tollgate_edge.authn.gate`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import grpc
import orjson
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2 as pb

from tollgate_edge.authn.cache import Refusal
from tollgate_edge.identity import Caller, caller_from_headers

if TYPE_CHECKING:
    from tollgate.vendor.envoy.service.auth.v3.external_auth_pb2_grpc import (
        AuthorizationAsyncStub,
    )

# google.rpc.Code values of CheckResponse.status.
_OK: Final = 0
_UNAUTHENTICATED: Final = 16
IDENTITY_PATH: Final = "/"
# dynamic_metadata: when the credential stops working by itself (unix seconds).
EXPIRES_AT: Final = "expiresAt"


class AuthUnavailable(Exception):
    """The credential could not be checked: auth unreachable, or unable to decide."""


@dataclass(frozen=True, slots=True)
class Answer:
    """Auth's decision about one credential; ``lifetime``: seconds until it expires by itself
    (``None``: no expiry)."""

    found: Caller | Refusal
    lifetime: float | None = None


def check_request(credential: tuple[str, str] | None) -> pb.CheckRequest:
    """The ``Check`` request for one credential header (name, value) as the client sent it."""
    headers = {credential[0]: credential[1]} if credential is not None else {}
    return pb.CheckRequest(
        attributes=pb.AttributeContext(
            request=pb.AttributeContext.Request(
                http=pb.AttributeContext.HttpRequest(
                    method="POST", path=IDENTITY_PATH, headers=headers
                )
            )
        )
    )


def _refusal(denied: pb.DeniedHttpResponse) -> Refusal:
    try:
        error = orjson.loads(denied.body)["error"]
        return Refusal(str(error["message"]), str(error["code"]))
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise AuthUnavailable("auth's refusal could not be read") from exc


def answer_of(response: pb.CheckResponse, now: float | None = None) -> Answer:
    """Auth's ``CheckResponse`` as the edge caches it."""
    code = response.status.code
    if code == _OK:
        headers = {
            option.header.key: option.header.value for option in response.ok_response.headers
        }
        lifetime = None
        if EXPIRES_AT in response.dynamic_metadata:
            expires_at = response.dynamic_metadata[EXPIRES_AT]
            if isinstance(expires_at, float):
                lifetime = expires_at - (time.time() if now is None else now)
        return Answer(caller_from_headers(headers), lifetime)
    if code == _UNAUTHENTICATED and response.denied_response.status.code == 401:
        return Answer(_refusal(response.denied_response))
    raise AuthUnavailable(f"auth answered {code}")


async def ask(
    stub: AuthorizationAsyncStub,
    credential: tuple[str, str] | None,
    deadline_seconds: float,
    metadata: Sequence[tuple[str, str]] = (),
) -> Answer:
    """Who ``credential`` is, according to auth (:class:`AuthUnavailable` when it cannot say)."""
    try:
        response = await stub.Check(
            check_request(credential), timeout=deadline_seconds, metadata=tuple(metadata)
        )
    except grpc.aio.AioRpcError as exc:
        raise AuthUnavailable(f"auth unreachable ({exc.code().name})") from exc
    return answer_of(response)
