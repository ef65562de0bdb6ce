"""Authentication and the first-start bootstrap, on typed values."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from tollgate_common.errors import InvalidArgument

from tollgate_auth.domain import (
    BOOTSTRAP_EMAIL,
    Authenticated,
    BootstrapOwner,
    CreatedApiKey,
    Principal,
)
from tollgate_auth.errors import (
    ApiKeyExpired,
    ApiKeyRevoked,
    InvalidApiKey,
    InvalidToken,
    MissingCredential,
)
from tollgate_auth.keys.cache import KeyCache, LastUsedTracker
from tollgate_auth.keys.credentials import jwt_expiry, looks_like_jwt
from tollgate_auth.keys.hashing import KeyHasher, generate_api_key, key_prefix, mint_api_key
from tollgate_auth.keys.repository import AuthRepository
from tollgate_auth.secret_files import write_secret_once

log = logging.getLogger(__name__)

BOOTSTRAP_TEAM_SLUG = "default"
BOOTSTRAP_TEAM_NAME = "Default"
BOOTSTRAP_KEY_NAME = "bootstrap"


class BootstrapOutcome(Enum):
    ALREADY_DONE = "already-done"
    CREATED_FROM_ENV = "created-from-env"
    CREATED_KEY_FILE = "created-key-file"
    DONE_ELSEWHERE = "done-elsewhere"
    RECOVERED_FROM_ENV = "recovered-from-env"


class AuthService:
    """Turns credentials into principals; the hot path reads the cache, not the database."""

    def __init__(
        self,
        repository: AuthRepository,
        hasher: KeyHasher,
        cache: KeyCache,
        last_used: LastUsedTracker,
        max_cache_age: Callable[[], float | None] = lambda: None,
        oidc: Callable[[str], Awaitable[Principal]] | None = None,
    ) -> None:
        self._repository = repository
        self._hasher = hasher
        self._cache = cache
        self._last_used = last_used
        self._max_cache_age = max_cache_age
        self._oidc = oidc

    async def authenticate_bearer(self, token: str) -> Principal:
        """A bearer credential: an OIDC token (a well-formed JWT) or an API key."""
        return (await self.authenticate_bearer_until(token)).principal

    async def authenticate_api_key(self, key: str) -> Principal:
        """The principal of an API key; unknown, revoked or expired keys are refused."""
        return (await self.authenticate_api_key_until(key)).principal

    async def authenticate_bearer_until(self, token: str) -> Authenticated:
        """:meth:`authenticate_bearer`, and until when the credential may work."""
        if not token:
            raise MissingCredential()
        if looks_like_jwt(token):
            if self._oidc is None:
                raise InvalidToken()
            principal = await self._oidc(token)
            # Verified above, so the token's own ``exp`` claim is the one its issuer signed.
            return Authenticated(principal, jwt_expiry(token))
        return await self.authenticate_api_key_until(token)

    async def authenticate_api_key_until(self, key: str) -> Authenticated:
        """:meth:`authenticate_api_key`, and until when the key may work (its expiry)."""
        if not key:
            raise MissingCredential()
        key_hash = self._hasher.hash(key)
        cached = self._cache.get(key_hash, self._max_cache_age())
        if cached is not None:
            record = cached.record
        else:
            generation = self._cache.generation
            record = await self._repository.find_key_by_hash(key_hash)
            self._cache.put(key_hash, record, generation)
        if record is None or not hmac.compare_digest(record.key_hash, key_hash):
            raise InvalidApiKey()
        if record.revoked_at is not None:
            raise ApiKeyRevoked()
        if record.expires_at is not None and record.expires_at <= datetime.now(UTC):
            raise ApiKeyExpired()
        self._last_used.touch(record.principal.key_id)
        return Authenticated(record.principal, record.expires_at)

    async def create_api_key(
        self,
        team_id: str,
        user_id: str,
        name: str,
        *,
        project_id: str | None = None,
        expires_at: datetime | None = None,
    ) -> CreatedApiKey:
        """A new key for a member of the team; the key itself is returned only here."""
        if await self._repository.membership_role(team_id, user_id) is None:
            raise InvalidArgument(
                "the user is not a member of the team", metadata={"param": "userId"}
            )
        new, key = mint_api_key(
            self._hasher,
            team_id=team_id,
            user_id=user_id,
            name=name,
            created_at=datetime.now(UTC),
            project_id=project_id,
            expires_at=expires_at,
        )
        await self._repository.insert_api_key(new)
        return CreatedApiKey(key_id=new.key_id, key=key, prefix=new.prefix)

    async def revoke_key(self, key_id: str) -> bool:
        """Revoke a key; this process refuses it at once (others within their cache TTL)."""
        revoked = await self._repository.revoke_key(key_id)
        self._cache.invalidate_key(key_id)
        return revoked

    async def bootstrap(self, configured_key: str | None, key_file: Path) -> BootstrapOutcome:
        """Create team ``default`` and its owner key if no API key exists yet (idempotent).

        The key is ``configured_key`` (``TOLLGATE_BOOTSTRAP_API_KEY``) if given, else the one
        in ``key_file``, else a new one written there (mode 0600). Only the path is logged.
        When keys exist, a configured key that does not is added to the bootstrap identity
        (team, operator user): the environment always recovers an operator's access.
        """
        if await self._repository.any_api_key_exists():
            if configured_key and await self._recover(configured_key):
                return BootstrapOutcome.RECOVERED_FROM_ENV
            log.debug("bootstrap: API keys exist already")
            return BootstrapOutcome.ALREADY_DONE
        if configured_key:
            key, from_file = configured_key, False
        else:
            content = await asyncio.to_thread(
                write_secret_once, key_file, (generate_api_key() + "\n").encode()
            )
            key, from_file = content.decode().strip(), True
            if not key:
                raise RuntimeError(f"the bootstrap key file {key_file} is empty")
        owner = self._bootstrap_owner(key)
        key_hash = owner.key_hash
        if not await self._repository.create_bootstrap_owner(owner):
            if from_file and await self._repository.find_key_by_hash(key_hash) is None:
                # Another process bootstrapped with its own key: ours would never work.
                with contextlib.suppress(FileNotFoundError):
                    await asyncio.to_thread(key_file.unlink)
            log.info("bootstrap: another process created the first owner key")
            return BootstrapOutcome.DONE_ELSEWHERE
        if from_file:
            log.info(
                "bootstrap: created team %r with an owner key; the key is in %s",
                BOOTSTRAP_TEAM_SLUG,
                key_file,
            )
            return BootstrapOutcome.CREATED_KEY_FILE
        log.info(
            "bootstrap: created team %r with TOLLGATE_BOOTSTRAP_API_KEY as its owner key",
            BOOTSTRAP_TEAM_SLUG,
        )
        return BootstrapOutcome.CREATED_FROM_ENV

    def _bootstrap_owner(self, key: str) -> BootstrapOwner:
        return BootstrapOwner(
            team_slug=BOOTSTRAP_TEAM_SLUG,
            team_name=BOOTSTRAP_TEAM_NAME,
            email=BOOTSTRAP_EMAIL,
            key_name=BOOTSTRAP_KEY_NAME,
            prefix=key_prefix(key),
            key_hash=self._hasher.hash(key),
        )

    async def _recover(self, key: str) -> bool:
        if not await self._repository.create_bootstrap_owner(
            self._bootstrap_owner(key), recover=True
        ):
            return False
        log.warning(
            "bootstrap: TOLLGATE_BOOTSTRAP_API_KEY was unknown; it now belongs to %s, operator "
            "and owner of the bootstrap team",
            BOOTSTRAP_EMAIL,
        )
        return True

    async def flush_last_used(self) -> int:
        """Write the recorded uses to ``api_keys.last_used_at``; returns how many keys."""
        pending = self._last_used.drain()
        if not pending:
            return 0
        used = {key_id: datetime.fromtimestamp(at, UTC) for key_id, at in pending.items()}
        try:
            await self._repository.record_last_used(used)
        except BaseException:
            self._last_used.restore(pending)
            raise
        return len(pending)

    async def run_last_used_flusher(self, interval_seconds: float) -> None:
        """Flush every ``interval_seconds`` until cancelled (then the owner flushes once more)."""
        while True:
            await asyncio.sleep(interval_seconds)
            try:
                await self.flush_last_used()
            except Exception:
                log.exception("could not record the keys' last use; will retry")
