"""AuthService against an in-memory repository: cache use, refusals, last-used tracking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from tollgate_auth.domain import AuthMethod, KeyRecord, Principal, Role
from tollgate_auth.errors import (
    ApiKeyExpired,
    ApiKeyRevoked,
    InvalidApiKey,
    InvalidToken,
    MissingCredential,
)
from tollgate_auth.keys.cache import KeyCache, LastUsedTracker
from tollgate_auth.keys.hashing import KeyHasher
from tollgate_auth.keys.repository import AuthRepository
from tollgate_auth.keys.service import AuthService

PEPPER = b"unit-test-pepper"
JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"


class MemoryRepository:
    def __init__(self) -> None:
        self.records: dict[str, KeyRecord] = {}
        self.lookups = 0
        self.last_used: dict[str, datetime] = {}

    def add(self, key: str, key_id: str, **fields: Any) -> None:
        key_hash = KeyHasher(PEPPER).hash(key)
        principal = Principal(
            team_id="team_1",
            team_slug="default",
            user_id="user_1",
            role=Role.MEMBER,
            auth_method=AuthMethod.API_KEY,
            key_id=key_id,
        )
        self.records[key_hash] = KeyRecord(
            key_hash=key_hash,
            principal=principal,
            expires_at=fields.get("expires_at"),
            revoked_at=fields.get("revoked_at"),
        )

    async def find_key_by_hash(self, key_hash: str) -> KeyRecord | None:
        self.lookups += 1
        return self.records.get(key_hash)

    async def record_last_used(self, used: dict[str, datetime]) -> None:
        self.last_used.update(used)


@pytest.fixture
def repo() -> MemoryRepository:
    return MemoryRepository()


@pytest.fixture
def service(repo: MemoryRepository) -> AuthService:
    return AuthService(cast(AuthRepository, repo), KeyHasher(PEPPER), KeyCache(), LastUsedTracker())


async def test_a_known_key_is_looked_up_once(repo: MemoryRepository, service: AuthService) -> None:
    repo.add("tg_good", "key_1")
    for _ in range(100):
        principal = await service.authenticate_api_key("tg_good")
    assert principal.key_id == "key_1"
    assert principal.role is Role.MEMBER
    assert repo.lookups == 1


async def test_unknown_keys_are_refused_and_briefly_cached(
    repo: MemoryRepository, service: AuthService
) -> None:
    for _ in range(10):
        with pytest.raises(InvalidApiKey) as caught:
            await service.authenticate_api_key("tg_unknown")
    assert caught.value.reason == "INVALID_API_KEY"
    assert repo.lookups == 1


async def test_revoked_and_expired_keys_are_refused(
    repo: MemoryRepository, service: AuthService
) -> None:
    now = datetime.now(UTC)
    repo.add("tg_revoked", "key_r", revoked_at=now)
    repo.add("tg_expired", "key_e", expires_at=now - timedelta(seconds=1))
    repo.add("tg_later", "key_l", expires_at=now + timedelta(hours=1))
    with pytest.raises(ApiKeyRevoked):
        await service.authenticate_api_key("tg_revoked")
    with pytest.raises(ApiKeyExpired):
        await service.authenticate_api_key("tg_expired")
    assert (await service.authenticate_api_key("tg_later")).key_id == "key_l"


async def test_empty_credentials_and_jwts(service: AuthService) -> None:
    with pytest.raises(MissingCredential):
        await service.authenticate_api_key("")
    with pytest.raises(MissingCredential):
        await service.authenticate_bearer("")
    with pytest.raises(InvalidToken) as caught:
        await service.authenticate_bearer(JWT)
    assert caught.value.openai_code == "invalid_token"


async def test_uses_are_flushed_in_one_batch(repo: MemoryRepository, service: AuthService) -> None:
    repo.add("tg_a", "key_a")
    repo.add("tg_b", "key_b")
    for _ in range(5):
        await service.authenticate_api_key("tg_a")
    await service.authenticate_bearer("tg_b")
    assert repo.last_used == {}  # nothing written per request
    assert await service.flush_last_used() == 2
    assert set(repo.last_used) == {"key_a", "key_b"}
    assert await service.flush_last_used() == 0
