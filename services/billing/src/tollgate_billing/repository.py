"""Generation records in SQL; owns the sessions and transactions."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import RowMapping, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common import inbox as inbox_ops

from tollgate_billing.models import generations, inbox
from tollgate_billing.service import GENERATION_FIELDS, Generation

USAGE_CONSUMER = "billing-usage"


class GenerationRepository:
    """Implements :class:`tollgate_billing.service.GenerationStore`."""

    def __init__(self, engine: AsyncEngine, consumer: str = USAGE_CONSUMER) -> None:
        self._engine = engine
        self._consumer = consumer

    async def record(self, generation: Generation) -> bool:
        # The generation id is the fact's idempotency key (its Nats-Msg-Id): claiming it and
        # inserting the row commit together, so a redelivered fact changes nothing.
        try:
            async with self._engine.begin() as conn:
                if not await inbox_ops.claim(conn, inbox, self._consumer, generation.id):
                    return False
                await conn.execute(insert(generations).values(**asdict(generation)))
        except IntegrityError:
            # A concurrent delivery of the same fact committed its claim first.
            if await self._claimed(generation.id):
                return False
            raise
        return True

    async def _claimed(self, msg_id: str) -> bool:
        query = select(inbox.c.msg_id).where(
            inbox.c.consumer == self._consumer, inbox.c.msg_id == msg_id
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def get(self, team_id: str, generation_id: str) -> Generation | None:
        query = select(generations).where(
            generations.c.id == generation_id, generations.c.team_id == team_id
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _generation(row)


def _generation(row: RowMapping) -> Generation:
    return Generation(**{name: row[name] for name in GENERATION_FIELDS})
