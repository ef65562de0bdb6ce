"""SQL for the auth service: owns connections and transactions, returns domain values."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import bindparam, exists, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tollgate_common.db_types import UtcDateTime
from tollgate_common.ids import new_id

from tollgate_auth.domain import (
    AuthMethod,
    BootstrapOwner,
    KeyRecord,
    NewApiKey,
    Principal,
    Role,
    utc_now,
)
from tollgate_auth.models import api_keys, memberships, teams, users

log = logging.getLogger(__name__)

_BOOTSTRAP_ATTEMPTS = 3


class AuthRepository:
    """Teams, users, memberships and API keys in the auth database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._find_by_hash = (
            select(
                api_keys.c.id,
                api_keys.c.key_hash,
                api_keys.c.team_id,
                teams.c.slug,
                api_keys.c.user_id,
                api_keys.c.project_id,
                memberships.c.role,
                api_keys.c.expires_at,
                api_keys.c.revoked_at,
                users.c.operator,
            )
            .join(teams, teams.c.id == api_keys.c.team_id)
            .join(users, users.c.id == api_keys.c.user_id)
            .join(
                memberships,
                (memberships.c.team_id == api_keys.c.team_id)
                & (memberships.c.user_id == api_keys.c.user_id),
            )
            .where(api_keys.c.key_hash == bindparam("key_hash"))
        )

    async def find_key_by_hash(self, key_hash: str) -> KeyRecord | None:
        """The key with this hash, with its team and its user's role there; else ``None``.

        A key whose user is no longer a member of its team is not found.
        """
        async with self._engine.connect() as conn:
            row = (await conn.execute(self._find_by_hash, {"key_hash": key_hash})).first()
        if row is None:
            return None
        principal = Principal(
            team_id=row.team_id,
            team_slug=row.slug,
            user_id=row.user_id,
            role=Role(row.role),
            auth_method=AuthMethod.API_KEY,
            key_id=row.id,
            project_id=row.project_id or "",
            operator=bool(row.operator),
        )
        return KeyRecord(
            key_hash=row.key_hash,
            principal=principal,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )

    async def any_api_key_exists(self) -> bool:
        async with self._engine.connect() as conn:
            return await self._any_api_key(conn)

    async def create_bootstrap_owner(self, owner: BootstrapOwner, *, recover: bool = False) -> bool:
        """Create the first team, owner and owner key unless some API key already exists.

        With ``recover`` (a configured bootstrap key on a later start), only unless *this* key
        exists: the bootstrap team, its user (an operator, the team's owner) and the key are
        made whole again, so the environment always restores an operator's access.

        Returns whether this call created the key. Several processes may race here: a lock
        serializes them and the later ones find the first one's key (the unique constraints
        back this up; a conflict is retried).
        """
        for attempt in range(1, _BOOTSTRAP_ATTEMPTS + 1):
            try:
                async with self._engine.begin() as conn:
                    await self._lock_for_bootstrap(conn)
                    if await self._key_exists(conn, owner.key_hash if recover else None):
                        return False
                    now = utc_now()
                    team_id = await self._team_id(conn, owner.team_slug, owner.team_name, now)
                    user_id = await self._user_id(conn, owner.email, now)
                    await self._ensure_membership(conn, team_id, user_id, Role.OWNER, now)
                    await _mark_bootstrap(conn, team_id, user_id)
                    key = NewApiKey(
                        key_id=new_id("key"),
                        team_id=team_id,
                        user_id=user_id,
                        name=owner.key_name,
                        prefix=owner.prefix,
                        key_hash=owner.key_hash,
                        created_at=now,
                    )
                    await conn.execute(insert(api_keys).values(_key_row(key)))
                    return True
            except IntegrityError:
                if attempt == _BOOTSTRAP_ATTEMPTS:
                    raise
                log.info("bootstrap raced with another process (attempt %d); re-reading", attempt)
        return False

    async def insert_api_key(self, key: NewApiKey) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(insert(api_keys).values(_key_row(key)))

    async def membership_role(self, team_id: str, user_id: str) -> Role | None:
        query = select(memberships.c.role).where(
            (memberships.c.team_id == team_id) & (memberships.c.user_id == user_id)
        )
        async with self._engine.connect() as conn:
            role = (await conn.execute(query)).scalar_one_or_none()
        return Role(role) if role is not None else None

    async def is_operator(self, user_id: str) -> bool:
        """Whether the user is an operator of the installation, from the database."""
        query = select(users.c.operator).where(users.c.id == user_id)
        async with self._engine.connect() as conn:
            return bool((await conn.execute(query)).scalar_one_or_none())

    async def revoke_key(self, key_id: str, at: datetime | None = None) -> bool:
        """Mark the key revoked; ``False`` if it does not exist or was already revoked."""
        query = (
            update(api_keys)
            .where((api_keys.c.id == key_id) & api_keys.c.revoked_at.is_(None))
            .values(revoked_at=at or utc_now())
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(query)
        return bool(result.rowcount)

    async def record_last_used(self, used: Mapping[str, datetime]) -> None:
        """Set ``last_used_at`` of many keys in one transaction (never moving it backwards)."""
        if not used:
            return
        at = bindparam("b_at", type_=UtcDateTime())
        query = (
            update(api_keys)
            .where(
                (api_keys.c.id == bindparam("b_id"))
                & (api_keys.c.last_used_at.is_(None) | (api_keys.c.last_used_at < at))
            )
            .values(last_used_at=at)
        )
        params = [{"b_id": key_id, "b_at": at} for key_id, at in sorted(used.items())]
        async with self._engine.begin() as conn:
            await conn.execute(query, params)

    async def key_last_used(self, key_id: str) -> datetime | None:
        query = select(api_keys.c.last_used_at).where(api_keys.c.id == key_id)
        async with self._engine.connect() as conn:
            value: datetime | None = (await conn.execute(query)).scalar_one_or_none()
        return value

    @staticmethod
    async def _lock_for_bootstrap(conn: AsyncConnection) -> None:
        """Serialize concurrent bootstraps until this transaction ends.

        Without it, a process that saw no key could still reuse the team and user another
        process has just committed and add a second owner key.
        """
        if conn.dialect.name == "postgresql":
            await conn.execute(text("LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE"))
        else:
            # SQLite: a write statement (even one matching no row) takes the database's
            # write lock, waiting up to busy_timeout for another writer to commit.
            await conn.execute(text("UPDATE api_keys SET name = name WHERE 1 = 0"))

    @staticmethod
    async def _any_api_key(conn: AsyncConnection) -> bool:
        return bool((await conn.execute(select(exists().select_from(api_keys)))).scalar())

    @classmethod
    async def _key_exists(cls, conn: AsyncConnection, key_hash: str | None) -> bool:
        """Whether the key with ``key_hash`` exists (``None``: whether any key does)."""
        if key_hash is None:
            return await cls._any_api_key(conn)
        query = select(exists().where(api_keys.c.key_hash == key_hash))
        return bool((await conn.execute(query)).scalar())

    @staticmethod
    async def _team_id(conn: AsyncConnection, slug: str, name: str, now: datetime) -> str:
        """The bootstrap team (whatever its slug now), else the team ``slug``, else a new one."""
        query = select(teams.c.id).where(teams.c.bootstrap | (teams.c.slug == slug))
        found = (await conn.execute(query.order_by(teams.c.bootstrap.desc()).limit(1))).scalar()
        if found is not None:
            return str(found)
        team_id = new_id("team")
        await conn.execute(insert(teams).values(id=team_id, slug=slug, name=name, created_at=now))
        return team_id

    @staticmethod
    async def _user_id(conn: AsyncConnection, email: str, now: datetime) -> str:
        found = (await conn.execute(select(users.c.id).where(users.c.email == email))).scalar()
        if found is not None:
            return str(found)
        user_id = new_id("user")
        await conn.execute(insert(users).values(id=user_id, email=email, created_at=now))
        return user_id

    @staticmethod
    async def _ensure_membership(
        conn: AsyncConnection, team_id: str, user_id: str, role: Role, now: datetime
    ) -> None:
        query = select(memberships.c.role).where(
            (memberships.c.team_id == team_id) & (memberships.c.user_id == user_id)
        )
        if (await conn.execute(query)).scalar() is None:
            await conn.execute(
                insert(memberships).values(
                    team_id=team_id, user_id=user_id, role=role.value, created_at=now
                )
            )


async def _mark_bootstrap(conn: AsyncConnection, team_id: str, user_id: str) -> None:
    """The bootstrap team can never be deleted; its user is always an operator and its owner."""
    await conn.execute(update(teams).where(teams.c.id == team_id).values(bootstrap=True))
    await conn.execute(update(users).where(users.c.id == user_id).values(operator=True))
    await conn.execute(
        update(memberships)
        .where((memberships.c.team_id == team_id) & (memberships.c.user_id == user_id))
        .values(role=Role.OWNER.value)
    )


def _key_row(key: NewApiKey) -> dict[str, object]:
    return {
        "id": key.key_id,
        "team_id": key.team_id,
        "user_id": key.user_id,
        "project_id": key.project_id,
        "name": key.name,
        "prefix": key.prefix,
        "key_hash": key.key_hash,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": None,
        "last_used_at": None,
    }
