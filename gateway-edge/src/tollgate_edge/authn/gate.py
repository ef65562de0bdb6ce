"""The hot model routes' authentication: credential → caller from the edge's cache, auth's
``Check`` on a miss (one call per credential at a time, a bounded number at once), and the
refusals in the same bodies auth writes (Anthropic's envelope on the Messages API's paths).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from tollgate_common.revocations import RevocationFollower

from tollgate_edge.authn.cache import IdentityCache, Refusal
from tollgate_edge.authn.check import Answer, AuthUnavailable, ask
from tollgate_edge.errors import ApiError
from tollgate_edge.identity import CALLER, Caller
from tollgate_edge.messages.errors import error_response
from tollgate_edge.peers import call_metadata

if TYPE_CHECKING:
    from tollgate.vendor.envoy.service.auth.v3.external_auth_pb2_grpc import (
        AuthorizationAsyncStub,
    )

log = logging.getLogger(__name__)

# The routes a key calls per generation. Envoy's config (gateway-edge/envoy/envoy.yaml) turns
# ext_authz off on exactly these paths; every other route keeps it.
HOT_PATHS: Final = frozenset(
    {
        "/v1/chat/completions",
        "/v1/embeddings",
        "/v1/responses",
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/ai/language-model",
        "/v1/ai/embedding-model",
        "/v3/ai/language-model",
        "/v3/ai/embedding-model",
    }
)
_ANTHROPIC_PATHS: Final = frozenset({"/v1/messages", "/v1/messages/count_tokens"})

UNAVAILABLE_MESSAGE: Final = "The authentication service is temporarily unavailable. Please retry."

Credential = tuple[str, str] | None


def credential_of(headers: Mapping[str, str]) -> Credential:
    """The credential header auth decides on: ``x-api-key`` whenever present, else
    ``Authorization`` (as sent; auth parses it)."""
    api_key = headers.get("x-api-key")
    if api_key is not None:
        return ("x-api-key", api_key)
    authorization = headers.get("authorization")
    if authorization is not None:
        return ("authorization", authorization)
    return None


class Authenticator:
    """Who presents a credential: from the cache, else from auth (then cached)."""

    def __init__(
        self,
        stub: AuthorizationAsyncStub,
        cache: IdentityCache,
        follower: RevocationFollower,
        deadline_seconds: float,
        max_in_flight: int = 32,
    ) -> None:
        self._stub = stub
        self._cache = cache
        self._follower = follower
        self._deadline = deadline_seconds
        # A fresh key per process: the digests mean nothing outside it.
        self._key = os.urandom(32)
        self._slots = asyncio.Semaphore(max_in_flight)
        self._asking: dict[bytes, asyncio.Task[Answer]] = {}

    @property
    def cache(self) -> IdentityCache:
        return self._cache

    @property
    def follower(self) -> RevocationFollower:
        return self._follower

    def digest(self, credential: Credential) -> bytes:
        """The cache key of ``credential``: a keyed hash (the credential is never kept)."""
        data = b"-" if credential is None else f"{credential[0]}\n{credential[1]}".encode()
        return hashlib.blake2b(data, digest_size=32, key=self._key).digest()

    async def identify(
        self, headers: Mapping[str, str], metadata: Sequence[tuple[str, str]] = ()
    ) -> Caller | Refusal:
        """The caller, or auth's refusal; :class:`AuthUnavailable` when auth cannot say."""
        credential = credential_of(headers)
        digest = self.digest(credential)
        found = self._cache.get(digest, self._follower.max_age())
        if found is not None:
            return found
        asking = self._asking.get(digest)
        if asking is None:
            asking = asyncio.ensure_future(self._ask(digest, credential, metadata))
            self._asking[digest] = asking
            asking.add_done_callback(lambda done: self._asked(digest, done))
        # Shielded: a client that goes away does not cancel the others' answer.
        return (await asyncio.shield(asking)).found

    async def _ask(
        self, digest: bytes, credential: Credential, metadata: Sequence[tuple[str, str]]
    ) -> Answer:
        generation = self._cache.generation
        async with self._slots:
            answer = await ask(self._stub, credential, self._deadline, metadata)
        self._cache.put(digest, answer.found, generation, answer.lifetime)
        return answer

    def _asked(self, digest: bytes, done: asyncio.Task[Answer]) -> None:
        if self._asking.get(digest) is done:
            del self._asking[digest]
        if not done.cancelled():
            done.exception()  # retrieved: the waiters, if any, have seen it


AUTHN = web.AppKey("authn", Authenticator)


def _refusal(error: ApiError, anthropic: bool) -> web.Response:
    return error_response(error) if anthropic else error.response()


def authenticate_hot_routes() -> Middleware:
    """On :data:`HOT_PATHS`: the caller from the :class:`Authenticator` (401, 403 for a role
    that may not call inference, 503 when auth cannot be asked), kept on the request for
    :func:`tollgate_edge.identity.caller_of`. Other paths pass through (Envoy authorized them)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path not in HOT_PATHS:
            return await handler(request)
        anthropic = path in _ANTHROPIC_PATHS
        try:
            found = await request.app[AUTHN].identify(request.headers, call_metadata(request))
        except AuthUnavailable as exc:
            log.debug("could not authenticate: %s", exc)
            error = ApiError(
                503, "service_unavailable", UNAVAILABLE_MESSAGE, code="service_unavailable"
            )
            return _refusal(error, anthropic)
        if isinstance(found, Refusal):
            error = ApiError(
                401,
                "authentication_error",
                found.message,
                code=found.code,
                headers={"WWW-Authenticate": "Bearer"},
            )
            return _refusal(error, anthropic)
        if not found.may_call_inference:
            message = f"a team {found.role} may not call inference"
            return _refusal(ApiError(403, "forbidden", message, code="forbidden"), anthropic)
        request[CALLER] = found
        return await handler(request)

    return middleware
