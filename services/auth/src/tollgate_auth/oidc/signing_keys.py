"""The signing keys of Tollgate's OIDC tokens (ES256), shared by every replica through the
database; the private keys are sealed under the BYOK KEK.

The newest unretired key signs. Rotation (``tollgate-auth rotate-oidc-key``) adds a new key and
retires the others; a retired key keeps verifying (and stays in the JWKS) until every token it
signed has expired. A replica that meets an unknown ``kid`` re-reads the keys (at most once a
second), so a token signed by a key another replica just made verifies everywhere.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common.ids import new_id

from tollgate_auth.byok.vault import Vault
from tollgate_auth.oidc.repository import SigningKeyRepository, StoredSigningKey

log = logging.getLogger(__name__)

ALGORITHM: Final = "ES256"
TOKEN_LIFETIME: Final = timedelta(hours=12)
_REFRESH_AT_MOST_EVERY: Final = 1.0


def _context(kid: str) -> str:
    return f"tollgate-oidc-signing-key:v1:{kid}"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey | None  # None: another replica's key we only verify
    public_key: ec.EllipticCurvePublicKey
    public_jwk: dict[str, Any]
    created_at: datetime
    retired_at: datetime | None

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, retired={self.retired_at is not None})"


class SigningKeys:
    def __init__(self, engine: AsyncEngine, vault: Vault) -> None:
        self._repository = SigningKeyRepository(engine)
        self._vault = vault
        self._keys: dict[str, SigningKey] = {}
        self._refreshed = float("-inf")

    async def load(self) -> None:
        """Read the keys; make one if there is none that may sign."""
        await self.refresh()
        if self.active() is None:
            await self.add()
            await self.refresh()

    async def refresh(self) -> None:
        keys: dict[str, SigningKey] = {}
        for row in await self._repository.all():
            if row.algorithm != ALGORITHM:
                continue
            pem = self._vault.open(row.sealed, _context(row.kid))
            private = serialization.load_pem_private_key(pem, password=None)
            if not isinstance(private, ec.EllipticCurvePrivateKey):
                continue
            keys[row.kid] = SigningKey(
                kid=row.kid,
                private_key=private,
                public_key=private.public_key(),
                public_jwk=json.loads(row.public_jwk),
                created_at=row.created_at,
                retired_at=row.retired_at,
            )
        self._keys = keys
        self._refreshed = time.monotonic()

    async def refresh_for_unknown(self, kid: str) -> SigningKey | None:
        """The key ``kid`` after re-reading the keys (rate-limited); None if still unknown."""
        if time.monotonic() - self._refreshed >= _REFRESH_AT_MOST_EVERY:
            await self.refresh()
        return self._keys.get(kid)

    async def add(self, retire_others: bool = False) -> str:
        """A new signing key; with ``retire_others`` the current ones stop signing."""
        private = ec.generate_private_key(ec.SECP256R1())
        kid = new_id("sig").lower()
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
        jwk.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        stored = StoredSigningKey(
            kid=kid,
            algorithm=ALGORITHM,
            public_jwk=json.dumps(jwk, separators=(",", ":")),
            sealed=self._vault.seal(pem, _context(kid)),
            created_at=datetime.now(UTC),
            retired_at=None,
        )
        await self._repository.add(stored, retire_others)
        return kid

    async def run_refresher(self, interval_seconds: float = 60.0) -> None:
        """Re-read the keys every ``interval_seconds`` (a rotation elsewhere reaches this replica)
        until cancelled."""
        while True:
            await asyncio.sleep(interval_seconds)
            try:
                await self.refresh()
            except Exception:
                log.exception("could not re-read the OIDC signing keys; will retry")

    def active(self) -> SigningKey | None:
        signing = [k for k in self._keys.values() if k.retired_at is None]
        return max(signing, key=lambda k: (k.created_at, k.kid)) if signing else None

    def get(self, kid: str) -> SigningKey | None:
        key = self._keys.get(kid)
        if key is None or (key.retired_at and key.retired_at + TOKEN_LIFETIME < datetime.now(UTC)):
            return None
        return key

    def jwks(self) -> dict[str, Any]:
        """Every key that may still verify a token, for ``/.well-known/jwks.json``."""
        now = datetime.now(UTC)
        return {
            "keys": [
                key.public_jwk
                for key in sorted(self._keys.values(), key=lambda k: k.created_at)
                if key.retired_at is None or key.retired_at + TOKEN_LIFETIME >= now
            ]
        }
