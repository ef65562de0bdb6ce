"""BYOK credentials of a team (docs/byok.md): add or replace, enable/disable, remove,
list (never the secret: a hint of its last 4 characters), test (the router makes the request;
this records the outcome), and hand the plaintext to the router only over the internal RPC,
only for the team asked about. Every change publishes ``byok_changed`` for the routers' caches.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Final

from tollgate_common.errors import InvalidArgument

from tollgate_auth.access.permissions import Action
from tollgate_auth.access.service import TeamAccess
from tollgate_auth.byok.repository import ByokRepository
from tollgate_auth.byok.vault import Vault, VaultError, context_of
from tollgate_auth.domain import ByokCredential, ByokTest, Clock, Principal, utc_now
from tollgate_auth.errors import ByokCredentialNotFound
from tollgate_auth.events import ActivityType, AuthEvents

# The provider slugs of the Vercel documentation's provider table.
PROVIDERS: Final = frozenset(
    {
        "alibaba", "anthropic", "azure", "baseten", "bedrock", "cerebras", "cohere",
        "deepinfra", "deepseek", "fireworks", "google", "groq", "inception", "meituan",
        "minimax", "mistral", "moonshotai", "morph", "novita", "openai", "parasail",
        "perplexity", "vercel", "vertex", "voyage", "xai", "zai",
    }
)  # fmt: skip
MAX_FIELD_CHARS: Final = 16_384
MAX_FIELDS: Final = 16
HINT_CHARS: Final = 4

log = logging.getLogger(__name__)


def _provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise InvalidArgument(f"unknown provider {provider[:40]!r}", metadata={"param": "provider"})
    return provider


def _credentials(credentials: Mapping[str, str]) -> dict[str, str]:
    """``{apiKey, ...}``: string fields, ``apiKey`` required and not blank."""
    if len(credentials) > MAX_FIELDS or any(
        not name or len(name) > 64 or len(value) > MAX_FIELD_CHARS
        for name, value in credentials.items()
    ):
        raise InvalidArgument("`credentials` is too large", metadata={"param": "credentials"})
    if not credentials.get("apiKey", "").strip():
        raise InvalidArgument(
            "`credentials.apiKey` is required", metadata={"param": "credentials.apiKey"}
        )
    return dict(credentials)


def hint_of(credentials: Mapping[str, str]) -> str:
    key = credentials["apiKey"].strip()
    return key[-HINT_CHARS:] if len(key) > 2 * HINT_CHARS else ""


class ByokService:
    def __init__(
        self,
        repository: ByokRepository,
        vault: Vault,
        access: TeamAccess,
        events: AuthEvents,
        clock: Clock = utc_now,
    ) -> None:
        self._repository = repository
        self._vault = vault
        self._access = access
        self._events = events
        self._clock = clock

    async def list(self, caller: Principal, team_id: str) -> list[ByokCredential]:
        team_id = team_id or caller.team_id
        await self._access.authorize(caller, team_id, Action.READ)
        return await self._repository.list(team_id)

    async def put(
        self,
        caller: Principal,
        team_id: str,
        provider: str,
        credentials: Mapping[str, str],
        enabled: bool | None,
    ) -> tuple[ByokCredential, bool]:
        team_id = team_id or caller.team_id
        await self._access.authorize(caller, team_id, Action.MANAGE_BYOK)
        provider = _provider(provider)
        secret = _credentials(credentials)
        sealed = self._vault.seal(
            json.dumps(secret, separators=(",", ":")).encode(), context_of(team_id, provider)
        )
        now = self._clock()
        stored, created = await self._repository.put(
            team_id, provider, sealed, hint_of(secret), enabled, now
        )
        self._events.byok_changed(team_id, provider, now)
        kind = (
            ActivityType.BYOK_CREDENTIAL_ADDED if created else ActivityType.BYOK_CREDENTIAL_UPDATED
        )
        self._events.activity(
            caller,
            team_id,
            kind,
            ("byok-credential", provider),
            {"provider": provider, "enabled": str(stored.enabled).lower()},
            at=now,
        )
        return stored, created

    async def set_enabled(
        self, caller: Principal, team_id: str, provider: str, enabled: bool
    ) -> ByokCredential:
        team_id = team_id or caller.team_id
        await self._access.authorize(caller, team_id, Action.MANAGE_BYOK)
        now = self._clock()
        stored = await self._repository.set_enabled(team_id, _provider(provider), enabled, now)
        if stored is None:
            raise ByokCredentialNotFound()
        self._events.byok_changed(team_id, provider, now)
        self._events.activity(
            caller,
            team_id,
            ActivityType.BYOK_CREDENTIAL_UPDATED,
            ("byok-credential", provider),
            {"provider": provider, "enabled": str(enabled).lower()},
            at=now,
        )
        return stored

    async def delete(self, caller: Principal, team_id: str, provider: str) -> None:
        team_id = team_id or caller.team_id
        await self._access.authorize(caller, team_id, Action.MANAGE_BYOK)
        if not await self._repository.delete(team_id, _provider(provider)):
            raise ByokCredentialNotFound()
        self._events.byok_changed(team_id, provider, self._clock())
        self._events.activity(
            caller,
            team_id,
            ActivityType.BYOK_CREDENTIAL_REMOVED,
            ("byok-credential", provider),
            {"provider": provider},
        )

    async def authorize_test(
        self, caller: Principal, team_id: str, provider: str, with_credentials: bool
    ) -> str:
        """The team whose ``provider`` credential the caller may test (owners); NotFound when
        nothing is stored and the request brings nothing to try."""
        team_id = team_id or caller.team_id
        await self._access.authorize(caller, team_id, Action.MANAGE_BYOK)
        provider = _provider(provider)
        if not with_credentials and await self._repository.get(team_id, provider) is None:
            raise ByokCredentialNotFound()
        return team_id

    async def record_test(
        self, caller: Principal, team_id: str, provider: str, stored: bool, result: ByokTest
    ) -> None:
        """The outcome of a test: the stored credential's ``lastTest`` (when it was the one
        tested and still exists) and a ``byok-credential-tested`` activity fact."""
        team_id = team_id or caller.team_id
        await self._access.authorize(caller, team_id, Action.MANAGE_BYOK)
        provider = _provider(provider)
        if stored:
            await self._repository.record_test(team_id, provider, result)
        self._events.activity(
            caller,
            team_id,
            ActivityType.BYOK_CREDENTIAL_TESTED,
            ("byok-credential", provider),
            {
                "provider": provider,
                "ok": str(result.ok).lower(),
                "statusCode": str(result.status_code),
                "stored": str(stored).lower(),
            },
            at=result.at,
        )

    async def secret(
        self, team_id: str, provider: str, include_disabled: bool = False
    ) -> dict[str, str] | None:
        """The plaintext credentials of an enabled credential (for the router), else None."""
        found = await self._repository.get(team_id, provider)
        if found is None or not (found[0].enabled or include_disabled):
            return None
        plaintext = self._vault.open(found[1], context_of(team_id, provider))
        value: dict[str, str] = json.loads(plaintext)
        return value

    async def secrets(self, team_id: str) -> dict[str, dict[str, str]]:
        """Every enabled credential of a team, by provider (for the router's cache). One that
        does not open is left out (logged without the secret)."""
        found: dict[str, dict[str, str]] = {}
        for credential, sealed in await self._repository.enabled(team_id):
            try:
                plaintext = self._vault.open(sealed, context_of(team_id, credential.provider))
            except VaultError as exc:
                log.error("BYOK credential %s of %s: %s", credential.provider, team_id, exc)
                continue
            found[credential.provider] = json.loads(plaintext)
        return found
