"""Tokens of external issuers a team trusts (a Kubernetes cluster, a CI system, ...).

An owner registers an issuer in their team: its ``iss``, where its keys are (a JWKS given inline,
or a ``jwksUri``), the audience its tokens must carry, and the claims that name the team (its
value must equal this team's id or slug — so a shared issuer such as a CI provider lets in only
this team's tokens) and, optionally, the project. A token is accepted only if it matches one
registration in every respect; it then acts as that team (and project) with a member's rights.

Registrations live in memory (re-read every ``refresh_seconds``: removing one takes effect within
that time); JWKS documents are cached for ``jwks_ttl`` seconds and re-fetched early when a token
names an unknown ``kid`` (at most every ``refetch_seconds``). Only asymmetric algorithms count.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import jwt

from tollgate_auth.domain import Principal, TrustedIssuer
from tollgate_auth.errors import InvalidToken, OidcTokenExpired
from tollgate_auth.issuers.repository import IssuersRepository
from tollgate_auth.tenancy.project_check import ProjectCheck

if TYPE_CHECKING:  # imported when a key set is first fetched: most installations never do
    import aiohttp

log = logging.getLogger(__name__)

ASYMMETRIC: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_FETCH_SECONDS: Final = 5.0
_MAX_JWKS_BYTES: Final = 256 * 1024


@dataclass
class _Jwks:
    keys: dict[str, jwt.PyJWK]
    fetched: float


def parse_jwks(text: str) -> dict[str, jwt.PyJWK]:
    """kid → key of a JWKS document; keys without a kid or of unusable types are skipped."""
    document = json.loads(text)
    found: dict[str, jwt.PyJWK] = {}
    for entry in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        try:
            found[entry["kid"]] = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue
    return found


class TrustedIssuers:
    def __init__(
        self,
        repository: IssuersRepository,
        projects: ProjectCheck,
        *,
        allow_insecure_jwks: bool = False,
        refresh_seconds: float = 1.0,
        jwks_ttl: float = 300.0,
        refetch_seconds: float = 10.0,
    ) -> None:
        self._repository = repository
        self._projects = projects
        self._allow_insecure = allow_insecure_jwks
        self._refresh_seconds = refresh_seconds
        self._jwks_ttl = jwks_ttl
        self._refetch_seconds = refetch_seconds
        self._by_issuer: dict[str, list[TrustedIssuer]] = {}
        self._jwks: dict[str, _Jwks] = {}
        self._session: aiohttp.ClientSession | None = None

    @property
    def allow_insecure_jwks(self) -> bool:
        return self._allow_insecure

    async def refresh(self) -> None:
        by_issuer: dict[str, list[TrustedIssuer]] = defaultdict(list)
        for registration in await self._repository.all():
            by_issuer[registration.issuer].append(registration)
        self._by_issuer = dict(by_issuer)

    async def run_refresher(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:
                log.exception("could not re-read the trusted OIDC issuers; will retry")
            await asyncio.sleep(self._refresh_seconds)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def knows(self, issuer: str) -> bool:
        return issuer in self._by_issuer

    async def verify(
        self, token: str, header: dict[str, Any], unverified: dict[str, Any]
    ) -> Principal:
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ASYMMETRIC:
            raise InvalidToken()
        registration = self._registration(unverified)
        key = await self._key(registration, kid if isinstance(kid, str) else None)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[str(alg)],
                audience=registration.audience,
                issuer=registration.issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise OidcTokenExpired() from None
        except jwt.PyJWTError:
            raise InvalidToken() from None
        if self._registration(claims) != registration:
            raise InvalidToken()
        project_id = ""
        if registration.project_claim:
            value = claims.get(registration.project_claim)
            if not isinstance(value, str) or not value:
                raise InvalidToken()
            await self._projects.require(registration.team_id, value)
            project_id = value
        return Principal.of_oidc_token(registration.team_id, registration.team_slug, project_id)

    def _registration(self, claims: dict[str, Any]) -> TrustedIssuer:
        """The one registration of the token's issuer whose team claim names its team."""
        issuer = claims.get("iss")
        for registration in self._by_issuer.get(issuer, []) if isinstance(issuer, str) else []:
            expected = (
                registration.team_id
                if registration.team_claim_kind == "teamId"
                else registration.team_slug
            )
            if claims.get(registration.team_claim) == expected:
                return registration
        raise InvalidToken()

    async def _key(self, registration: TrustedIssuer, kid: str | None) -> jwt.PyJWK:
        if registration.jwks_json:
            keys = parse_jwks(registration.jwks_json)
        else:
            keys = await self._fetched(registration.jwks_uri or "", kid)
        if kid is None:
            if len(keys) != 1:
                raise InvalidToken()
            return next(iter(keys.values()))
        key = keys.get(kid)
        if key is None:
            raise InvalidToken()
        return key

    async def _fetched(self, uri: str, kid: str | None) -> dict[str, jwt.PyJWK]:
        cached = self._jwks.get(uri)
        now = time.monotonic()
        stale = cached is None or now - cached.fetched > self._jwks_ttl
        missing = cached is not None and kid is not None and kid not in cached.keys
        if stale or (
            missing and cached is not None and now - cached.fetched > self._refetch_seconds
        ):
            try:
                cached = _Jwks(parse_jwks(await self._read(uri)), now)
                self._jwks[uri] = cached
            except Exception as exc:
                log.warning("could not fetch the JWKS of a trusted issuer (%s)", type(exc).__name__)
                if cached is None:
                    raise InvalidToken() from None
        assert cached is not None
        return cached.keys

    async def _read(self, uri: str) -> str:
        if uri.startswith("file://") and self._allow_insecure:
            return await asyncio.to_thread(Path(uri.removeprefix("file://")).read_text)
        if not (uri.startswith("https://") or (self._allow_insecure and uri.startswith("http://"))):
            raise ValueError("JWKS location not allowed")
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=_FETCH_SECONDS)
            )
        async with self._session.get(uri, allow_redirects=False) as reply:
            reply.raise_for_status()
            body = await reply.content.read(_MAX_JWKS_BYTES + 1)
        if len(body) > _MAX_JWKS_BYTES:
            raise ValueError("JWKS document too large")
        return body.decode()
