"""SQL for the OIDC signing keys (every replica reads the same ones); owns its transactions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tollgate_auth.byok.vault import Sealed
from tollgate_auth.models import oidc_signing_keys


@dataclass(frozen=True, slots=True)
class StoredSigningKey:
    """A signing key as stored: its public JWK (JSON) and its private key, sealed."""

    kid: str
    algorithm: str
    public_jwk: str
    sealed: Sealed
    created_at: datetime
    retired_at: datetime | None

    def __repr__(self) -> str:
        return f"StoredSigningKey(kid={self.kid!r}, retired={self.retired_at is not None})"


class SigningKeyRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def all(self) -> list[StoredSigningKey]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(oidc_signing_keys))).all()
        return [
            StoredSigningKey(
                kid=row.kid,
                algorithm=row.algorithm,
                public_jwk=row.public_jwk,
                sealed=Sealed(row.kek_id, bytes(row.nonce), bytes(row.ciphertext)),
                created_at=row.created_at,
                retired_at=row.retired_at,
            )
            for row in rows
        ]

    async def add(self, key: StoredSigningKey, retire_others: bool) -> None:
        """Store a new key; with ``retire_others`` the unretired ones retire at its creation."""
        async with self._engine.begin() as conn:
            if retire_others:
                await conn.execute(
                    update(oidc_signing_keys)
                    .where(oidc_signing_keys.c.retired_at.is_(None))
                    .values(retired_at=key.created_at)
                )
            await conn.execute(
                insert(oidc_signing_keys).values(
                    kid=key.kid,
                    algorithm=key.algorithm,
                    public_jwk=key.public_jwk,
                    kek_id=key.sealed.kek_id,
                    nonce=key.sealed.nonce,
                    ciphertext=key.sealed.ciphertext,
                    created_at=key.created_at,
                    retired_at=key.retired_at,
                )
            )
