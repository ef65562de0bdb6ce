"""SQL for BYOK credentials: sealed secrets per team and provider; owns its transactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tollgate_auth.byok.vault import Sealed
from tollgate_auth.domain import ByokCredential, ByokTest
from tollgate_auth.models import byok_credentials


def _credential(row: Any) -> ByokCredential:
    last_test = None
    if row.last_test_at is not None:
        last_test = ByokTest(
            ok=bool(row.last_test_ok),
            status_code=int(row.last_test_status or 0),
            message=row.last_test_message or "",
            at=row.last_test_at,
        )
    return ByokCredential(
        team_id=row.team_id,
        provider=row.provider,
        enabled=bool(row.enabled),
        hint=row.hint,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_test=last_test,
    )


def _sealed(row: Any) -> Sealed:
    return Sealed(row.kek_id, bytes(row.nonce), bytes(row.ciphertext))


class ByokRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list(self, team_id: str) -> list[ByokCredential]:
        query = (
            select(byok_credentials)
            .where(byok_credentials.c.team_id == team_id)
            .order_by(byok_credentials.c.provider)
        )
        async with self._engine.connect() as conn:
            return [_credential(row) for row in await conn.execute(query)]

    async def get(self, team_id: str, provider: str) -> tuple[ByokCredential, Sealed] | None:
        query = select(byok_credentials).where(
            (byok_credentials.c.team_id == team_id) & (byok_credentials.c.provider == provider)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return (_credential(row), _sealed(row)) if row else None

    async def enabled(self, team_id: str) -> Sequence[tuple[ByokCredential, Sealed]]:
        query = select(byok_credentials).where(
            (byok_credentials.c.team_id == team_id) & byok_credentials.c.enabled.is_(True)
        )
        async with self._engine.connect() as conn:
            return [(_credential(row), _sealed(row)) for row in await conn.execute(query)]

    async def record_test(self, team_id: str, provider: str, result: ByokTest) -> bool:
        """The outcome of the credential's latest test; False when it no longer exists."""
        where = (byok_credentials.c.team_id == team_id) & (byok_credentials.c.provider == provider)
        async with self._engine.begin() as conn:
            updated = await conn.execute(
                update(byok_credentials)
                .where(where)
                .values(
                    last_test_ok=result.ok,
                    last_test_status=result.status_code,
                    last_test_message=result.message[:500],
                    last_test_at=result.at,
                )
            )
        return bool(updated.rowcount)

    async def put(
        self,
        team_id: str,
        provider: str,
        sealed: Sealed,
        hint: str,
        enabled: bool | None,
        now: datetime,
    ) -> tuple[ByokCredential, bool]:
        """Store the credential (replacing the secret and forgetting the last test); returns
        it and whether it is new. ``enabled=None`` keeps the current state (new: enabled)."""
        secret = {
            "kek_id": sealed.kek_id,
            "nonce": sealed.nonce,
            "ciphertext": sealed.ciphertext,
            "hint": hint,
            "updated_at": now,
            "last_test_ok": None,
            "last_test_status": None,
            "last_test_message": None,
            "last_test_at": None,
        }
        where = (byok_credentials.c.team_id == team_id) & (byok_credentials.c.provider == provider)
        for _ in range(2):  # an insert racing another insert becomes an update
            async with self._engine.begin() as conn:
                values = dict(secret) if enabled is None else {**secret, "enabled": enabled}
                result = await conn.execute(update(byok_credentials).where(where).values(values))
                created = not result.rowcount
                if created:
                    try:
                        async with conn.begin_nested():
                            await conn.execute(
                                insert(byok_credentials).values(
                                    team_id=team_id,
                                    provider=provider,
                                    enabled=True if enabled is None else enabled,
                                    created_at=now,
                                    **secret,
                                )
                            )
                    except IntegrityError:
                        continue
                row = (await conn.execute(select(byok_credentials).where(where))).one()
            return _credential(row), created
        raise RuntimeError("could not store the BYOK credential")

    async def set_enabled(
        self, team_id: str, provider: str, enabled: bool, now: datetime
    ) -> ByokCredential | None:
        where = (byok_credentials.c.team_id == team_id) & (byok_credentials.c.provider == provider)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(byok_credentials).where(where).values(enabled=enabled, updated_at=now)
            )
            if not result.rowcount:
                return None
            row = (await conn.execute(select(byok_credentials).where(where))).one()
        return _credential(row)

    async def delete(self, team_id: str, provider: str) -> bool:
        where = (byok_credentials.c.team_id == team_id) & (byok_credentials.c.provider == provider)
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(byok_credentials).where(where))
        return bool(result.rowcount)
