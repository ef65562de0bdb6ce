"""Generations: the rules on typed values for recording them (each once) and looking them up."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_common.inbox import Stored
from tollgate_common.money import ZERO
from tollgate_common.usage_record import UsageRecord, clipped, usage_record

from tollgate_billing.errors import GenerationNotFound, InvalidUsage, missing_field
from tollgate_billing.models import GENERATION_ROWS, NAME_LENGTH, SHORT_LENGTH

log = logging.getLogger(__name__)

MAX_TAGS = 50
BYOK = "byok"
# The fields that only describe a generation, and the length each is cut to (a column's size
# where it has one): never a reason to leave a generation unrecorded and so uncharged. Only the
# ids (generation, team, project, key), the credential type (BYOK is not charged), the counts
# and the amounts can make a fact invalid.
COSMETIC_LENGTHS = {
    "model": NAME_LENGTH,
    "provider": NAME_LENGTH,
    "provider_model_id": NAME_LENGTH,
    "end_user": NAME_LENGTH,
    "finish_reason": SHORT_LENGTH,
    "status": SHORT_LENGTH,
    "price_version": NAME_LENGTH,
    "app_title": 300,
    "app_referer": 2000,
}

# A generation as billing records it: its usage fact, with what billing charges (nothing for
# BYOK: the team paid its provider; ``market_cost`` stays the list price) and its tags, each once.
# ``hold_id`` names the router's credit lease it drew from ("": a hold of its own, named by its
# id); it only tells the balance cache which hold to settle.
Generation = UsageRecord


def generation_from_fact(fact: UsageRecorded, received_at: datetime) -> Generation:
    """The generation a fact describes, its descriptive fields cut to fit
    (:data:`COSMETIC_LENGTHS`, at most :data:`MAX_TAGS` tags); :class:`InvalidUsage` if its
    amounts are not decimals."""
    changes: dict[str, object] = dict(clipped(fact, COSMETIC_LENGTHS))
    cut = sorted(changes)
    # A repeated tag counts once; a tag is cut to fit; past MAX_TAGS, tags are dropped.
    unique = tuple(dict.fromkeys(fact.tags))
    tags = tuple(dict.fromkeys(t.replace("\x00", "")[:NAME_LENGTH] for t in unique))[:MAX_TAGS]
    if tags != unique:
        cut.append("tags")
    if tags != tuple(fact.tags):
        changes["tags"] = tags
    if cut:  # the names of the fields only: their values may be anything
        log.warning("generation %r: cut to fit: %s", fact.generation_id, ", ".join(cut))
    if fact.credential_type == BYOK:
        changes["cost"] = ZERO
    try:
        return usage_record(fact, received_at, **changes)
    except ValueError as exc:
        raise InvalidUsage(str(exc)) from exc


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
    try:
        GENERATION_ROWS.check(generation)
    except ValueError as exc:
        raise InvalidUsage(str(exc)) from exc
    tags = generation.fact.tags
    if len(tags) > MAX_TAGS:
        raise InvalidUsage(f"more than {MAX_TAGS} tags")
    for tag in tags:
        if len(tag) > NAME_LENGTH or "\x00" in tag:
            raise InvalidUsage("a tag is too long or contains a NUL character")


class GenerationService:
    def __init__(self, store: GenerationStore) -> None:
        self._store = store

    async def record_usage(self, generation: Generation) -> bool:
        """Record a finished generation exactly once; False for a repeat of a known one."""
        validate_generation(generation)
        return await self._store.record(generation)

    async def record_usages(self, batch: Sequence[Generation]) -> list[Stored]:
        """Record many finished generations, each exactly once; one result per item, in order.

        An invalid generation is REJECTED (and logged at ERROR) without holding up the others.
        Nothing else is logged: the consumer counts what each batch stored in its metrics."""
        rejected: set[int] = set()
        for index, generation in enumerate(batch):
            try:
                validate_generation(generation)
            except InvalidUsage as exc:
                log.error("rejecting generation %r: %s", generation.generation_id, exc)
                rejected.add(index)
        valid = [g for index, g in enumerate(batch) if index not in rejected]
        stored = iter(await self._store.record_many(valid) if valid else ())
        return [Stored.REJECTED if i in rejected else next(stored) for i in range(len(batch))]

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
