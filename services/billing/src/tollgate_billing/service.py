"""Billing's business rules on typed values: recording generations and looking them up."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from tollgate_common.inbox import Stored

from tollgate_billing.errors import GenerationNotFound, InvalidUsage, missing_field
from tollgate_billing.models import ID_LENGTH, NAME_LENGTH, SHORT_LENGTH

log = logging.getLogger(__name__)

# Money columns are NUMERIC(38, 18): at most 20 digits before the point.
MAX_AMOUNT = Decimal(10) ** 20

_ID_FIELDS = ("id", "team_id", "project_id", "key_id", "user_id")
_NAME_FIELDS = ("model", "provider", "provider_model_id", "price_version", "end_user")
MAX_TAGS = 50
_SHORT_FIELDS = ("credential_type", "finish_reason", "status")
_COUNT_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "ttft_ms",
    "latency_ms",
)


@dataclass(frozen=True)
class Generation:
    """One finished generation, as billing records it."""

    id: str
    team_id: str
    project_id: str
    key_id: str
    user_id: str
    model: str
    provider: str
    provider_model_id: str
    credential_type: str
    streamed: bool
    finish_reason: str
    status: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost: Decimal
    market_cost: Decimal
    price_version: str
    ttft_ms: int
    latency_ms: int
    created_at: datetime
    # providerOptions.gateway.user / .tags of the request (the spend report's user and tag).
    end_user: str = ""
    tags: tuple[str, ...] = ()
    # The router's credit lease this generation drew from ("": a hold of its own, named by
    # its id). Not stored: it only tells the balance view which hold to settle.
    hold_id: str = field(default="", compare=False)


GENERATION_FIELDS = tuple(f.name for f in fields(Generation) if f.name != "hold_id")


class GenerationStore(Protocol):
    async def record(self, generation: Generation) -> bool:
        """Store ``generation`` unless its id was seen before; True if stored now."""
        ...

    async def record_many(self, batch: Sequence[Generation]) -> list[Stored]:
        """Store each generation whose id was not seen before (a repeat within ``batch`` is a
        duplicate too), in one transaction where possible; one result per item, in order:
        REJECTED for values the database refuses. Raises for failures that may pass."""
        ...

    async def get(self, team_id: str, generation_id: str) -> Generation | None: ...


def validate_generation(generation: Generation) -> None:
    """Raise :class:`InvalidUsage` for a record that could never be stored."""
    for name in ("id", "team_id"):
        if not getattr(generation, name):
            raise InvalidUsage(f"{name} is empty")
    for names, limit in (
        (_ID_FIELDS, ID_LENGTH),
        (_NAME_FIELDS, NAME_LENGTH),
        (_SHORT_FIELDS, SHORT_LENGTH),
    ):
        for name in names:
            value = getattr(generation, name)
            if len(value) > limit:
                raise InvalidUsage(f"{name} is longer than {limit} characters")
            if "\x00" in value:  # PostgreSQL cannot store it
                raise InvalidUsage(f"{name} contains a NUL character")
    if len(generation.tags) > MAX_TAGS:
        raise InvalidUsage(f"more than {MAX_TAGS} tags")
    for tag in generation.tags:
        if len(tag) > NAME_LENGTH or "\x00" in tag:
            raise InvalidUsage("a tag is too long or contains a NUL character")
    for name in _COUNT_FIELDS:
        if getattr(generation, name) < 0:
            raise InvalidUsage(f"{name} is negative")
    for name, amount in (("cost", generation.cost), ("market_cost", generation.market_cost)):
        if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
            raise InvalidUsage(f"{name} is out of range: {amount}")
    if generation.created_at.tzinfo is None:
        raise InvalidUsage("created_at has no time zone")


class BillingService:
    def __init__(self, store: GenerationStore) -> None:
        self._store = store

    async def record_usage(self, generation: Generation) -> bool:
        """Record a finished generation exactly once; False for a repeat of a known one."""
        validate_generation(generation)
        stored = await self._store.record(generation)
        if stored:
            log.info(
                "recorded generation %s of team %s: cost %s",
                generation.id,
                generation.team_id,
                generation.cost,
            )
        else:
            log.info("generation %s already recorded; duplicate ignored", generation.id)
        return stored

    async def record_usages(self, batch: Sequence[Generation]) -> list[Stored]:
        """Record many finished generations, each exactly once; one result per item, in order.

        An invalid generation is REJECTED (and logged) without holding up the others."""
        rejected: set[int] = set()
        for index, generation in enumerate(batch):
            try:
                validate_generation(generation)
            except InvalidUsage as exc:
                log.error("rejecting generation %r: %s", generation.id, exc)
                rejected.add(index)
        valid = [g for index, g in enumerate(batch) if index not in rejected]
        stored = iter(await self._store.record_many(valid) if valid else ())
        final = [Stored.REJECTED if i in rejected else next(stored) for i in range(len(batch))]
        log.info(
            "recorded %d generations (%d duplicates ignored, %d rejected)",
            final.count(Stored.NEW),
            final.count(Stored.DUPLICATE),
            final.count(Stored.REJECTED),
        )
        return final

    async def get_generation(self, team_id: str, generation_id: str) -> Generation:
        """The generation ``generation_id`` of ``team_id``; NOT_FOUND for anything else."""
        if not team_id:
            raise missing_field("team_id")
        if not generation_id:
            raise missing_field("generation_id")
        generation = await self._store.get(team_id, generation_id)
        if generation is None:
            raise GenerationNotFound(f"generation {generation_id} not found")
        return generation
