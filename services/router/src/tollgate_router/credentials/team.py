"""The teams' stored BYOK credentials, held in memory so that routing needs no round trip.

A team's enabled credentials are loaded from auth (``ListByokSecrets``, the internal RPC) the
first time the router routes for that team, and only that team's. They stay until
``tollgate.auth.byok_changed.v1`` names the team (plain NATS, every replica sees every change),
then the next request reloads them: a credential disabled or removed stops being used within
the time it takes the fact to arrive. While the router is not following those facts (NATS
down, not connected yet), a team's credentials are trusted for ``offline_max_age`` seconds
only, and every cached team is dropped when it follows them again.

In memory each API key is sealed (AES-256-GCM) under a key generated when the process starts
and never written anywhere: a heap dump, a repr or a log line shows ciphertext. A key is opened
only while a generation's plan is made (microseconds), and the plaintext then lives as long as
that generation. When auth cannot be reached the team is served with system credentials (and
auth is asked again a second later); the failure is logged, never a secret.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tollgate.auth.v1 import auth_pb2
from tollgate.events.v1 import auth_pb2 as auth_events_pb2
from tollgate_common.fact_follower import FactFollower

if TYPE_CHECKING:
    from tollgate.auth.v1.auth_pb2_grpc import AuthServiceAsyncStub
    from tollgate_common.bus import Bus

log = logging.getLogger(__name__)

BYOK_CHANGED: Final = "tollgate.auth.byok_changed.v1"
_NONCE_BYTES: Final = 12

# provider → {apiKey, ...} of one team's enabled credentials.
Loader = Callable[[str], Awaitable[Mapping[str, Mapping[str, str]]]]


def grpc_loader(stub: AuthServiceAsyncStub, deadline_seconds: float) -> Loader:
    """Loads a team's credentials over auth's internal RPC."""

    async def load(team_id: str) -> Mapping[str, Mapping[str, str]]:
        reply = await stub.ListByokSecrets(
            auth_pb2.ListByokSecretsRequest(team_id=team_id), timeout=deadline_seconds
        )
        return {s.provider: dict(s.credentials) for s in reply.secrets}

    return load


class TeamCredentials:
    """One team's sealed keys; ``api_key`` opens one."""

    __slots__ = ("_aead", "_sealed")

    def __init__(self, aead: AESGCM | None, sealed: Mapping[str, bytes]) -> None:
        self._aead = aead
        self._sealed = sealed

    def providers(self) -> frozenset[str]:
        return frozenset(self._sealed)

    def api_key(self, provider: str) -> str | None:
        sealed = self._sealed.get(provider)
        if sealed is None or self._aead is None:
            return None
        plaintext = self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], None)
        return str(json.loads(plaintext).get("apiKey", "")) or None

    def __repr__(self) -> str:  # never the keys
        return f"TeamCredentials(providers={sorted(self._sealed)})"


NO_CREDENTIALS: Final = TeamCredentials(None, {})


@dataclass(slots=True)
class _Entry:
    credentials: TeamCredentials
    loaded_at: float
    # A failed load is kept this long instead of the usual max age (auth is asked again then).
    max_age: float | None = None


class TeamCredentialStore:
    def __init__(
        self,
        loader: Loader,
        *,
        max_teams: int = 10_000,
        offline_max_age: float = 1.0,
        retry_seconds: float = 1.0,
        poll_seconds: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loader = loader
        self._max_teams = max_teams
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._entries: dict[str, _Entry] = {}
        self._loading: dict[str, asyncio.Future[TeamCredentials]] = {}
        self._stale: set[str] = set()
        self._follower = FactFollower(
            "BYOK credential changes",
            {
                BYOK_CHANGED: (
                    auth_events_pb2.ByokChanged,
                    lambda fact: self.invalidate(fact.team_id),
                )
            },
            resync=self.clear,
            offline_max_age=offline_max_age,
            poll_seconds=poll_seconds,
        )

    @property
    def live(self) -> bool:
        """Whether change facts are being followed (else entries expire quickly)."""
        return self._follower.live

    def seal(self, credentials: Mapping[str, Mapping[str, str]]) -> TeamCredentials:
        sealed = {}
        for provider, fields in credentials.items():
            if not fields.get("apiKey"):
                continue
            nonce = secrets.token_bytes(_NONCE_BYTES)
            plaintext = json.dumps(dict(fields), separators=(",", ":")).encode()
            sealed[provider] = nonce + self._aead.encrypt(nonce, plaintext, None)
        return TeamCredentials(self._aead, sealed)

    def cached(self, team_id: str) -> TeamCredentials | None:
        """The team's credentials when held and still fresh (no I/O)."""
        entry = self._entries.get(team_id)
        if entry is None:
            return None
        max_age = entry.max_age if entry.max_age is not None else self._follower.max_age()
        if max_age is not None and self._clock() - entry.loaded_at > max_age:
            del self._entries[team_id]
            return None
        return entry.credentials

    async def for_team(self, team_id: str) -> TeamCredentials:
        """The team's enabled credentials; loaded from auth on first use (one load per team
        at a time, however many requests wait for it)."""
        if not team_id:
            return NO_CREDENTIALS
        if (held := self.cached(team_id)) is not None:
            return held
        if (pending := self._loading.get(team_id)) is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[TeamCredentials] = asyncio.get_running_loop().create_future()
        self._loading[team_id] = future
        self._stale.discard(team_id)
        try:
            credentials, max_age = await self._load(team_id)
            if team_id not in self._stale:  # a change arrived while loading: do not keep it
                self._keep(team_id, _Entry(credentials, self._clock(), max_age))
            future.set_result(credentials)
            return credentials
        except BaseException:  # cancelled: whoever waits goes on with system credentials
            future.set_result(NO_CREDENTIALS)
            raise
        finally:
            self._loading.pop(team_id, None)
            self._stale.discard(team_id)

    async def _load(self, team_id: str) -> tuple[TeamCredentials, float | None]:
        try:
            return self.seal(await self._loader(team_id)), None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "cannot load the BYOK credentials of %s (%s): system credentials only for %.0fs",
                team_id,
                type(exc).__name__,
                self._retry_seconds,
            )
            return NO_CREDENTIALS, self._retry_seconds

    def _keep(self, team_id: str, entry: _Entry) -> None:
        self._entries.pop(team_id, None)
        while len(self._entries) >= self._max_teams:  # the oldest load goes first
            del self._entries[next(iter(self._entries))]
        self._entries[team_id] = entry

    def invalidate(self, team_id: str) -> None:
        self._entries.pop(team_id, None)
        if team_id in self._loading:
            self._stale.add(team_id)

    def clear(self) -> None:
        self._entries.clear()
        self._stale.update(self._loading)

    def close(self) -> None:
        """Stop following change facts (``follow`` returns within ``poll_seconds``)."""
        self._follower.close()

    async def follow(self, bus: Bus) -> None:
        """Subscribe to change facts, then follow the connection until closed or cancelled."""
        await self._follower.run(bus)
