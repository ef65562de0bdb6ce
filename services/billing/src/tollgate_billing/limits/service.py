"""Rate limits: list, set and remove a team's limits (with their activity events), and admit
or finish the requests counted against them (the router asks, only for callers that have a
limit)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tollgate.events.v1 import activity_pb2
from tollgate_common.errors import InvalidArgument

from tollgate_billing.budgets.budget import Scope, parse_scope
from tollgate_billing.domain import Clock
from tollgate_billing.errors import RateLimitNotFound, missing_field
from tollgate_billing.events import FactSink, activity_event
from tollgate_billing.limits.limit import RateLimit, Status, parse_value
from tollgate_billing.limits.repository import RateLimitRepository, Request
from tollgate_billing.models import ID_LENGTH

# Activity event types, named like the budgets' (``spend-*``).
RATE_LIMIT_CREATED = "rate-limit-created"
RATE_LIMIT_UPDATED = "rate-limit-updated"
RATE_LIMIT_DELETED = "rate-limit-deleted"
# The most slots one renewal may name (a router renews its in-flight slots in pages of this).
MAX_RENEWED = 1000


def _scope_id(team_id: str, scope: Scope, scope_id: str) -> str:
    if not scope_id:
        raise missing_field("scope_id")
    if len(scope_id) > ID_LENGTH:
        raise InvalidArgument("scope_id is too long", metadata={"param": "scope_id"})
    if scope is Scope.TEAM and scope_id != team_id:
        raise RateLimitNotFound(f"team {scope_id} not found")
    return scope_id


class RateLimitService:
    def __init__(self, limits: RateLimitRepository, activity: FactSink, clock: Clock) -> None:
        self._limits = limits
        self._activity = activity
        self._clock = clock

    async def list(self, team_id: str) -> list[RateLimit]:
        if not team_id:
            raise missing_field("team_id")
        return await self._limits.all(team_id)

    async def put(
        self,
        team_id: str,
        scope: str,
        scope_id: str,
        *,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        concurrent_requests: int | None,
        actor_id: str,
    ) -> tuple[RateLimit, bool]:
        """Create or replace the limit of one scope; returns it and whether it is new."""
        if not team_id:
            raise missing_field("team_id")
        kind = parse_scope(scope)
        at = self._clock()
        limit = RateLimit(
            team_id=team_id,
            scope=kind,
            scope_id=_scope_id(team_id, kind, scope_id),
            requests_per_minute=parse_value(requests_per_minute, "requestsPerMinute"),
            tokens_per_minute=parse_value(tokens_per_minute, "tokensPerMinute"),
            concurrent_requests=parse_value(concurrent_requests, "concurrentRequests"),
            created_at=at,
            updated_at=at,
        )
        if not (limit.requests_per_minute or limit.tokens_per_minute or limit.concurrent_requests):
            raise InvalidArgument(
                "set at least one of requestsPerMinute, tokensPerMinute, concurrentRequests",
                metadata={"param": "requestsPerMinute"},
            )
        stored, created = await self._limits.put(limit)
        self._event(RATE_LIMIT_CREATED if created else RATE_LIMIT_UPDATED, stored, actor_id, at)
        return stored, created

    async def delete(self, team_id: str, scope: str, scope_id: str, actor_id: str) -> None:
        if not team_id:
            raise missing_field("team_id")
        kind = parse_scope(scope)
        removed = await self._limits.delete(team_id, kind, _scope_id(team_id, kind, scope_id))
        if removed is None:
            raise RateLimitNotFound(f"no {kind.value} rate limit for {scope_id}")
        self._event(RATE_LIMIT_DELETED, removed, actor_id, self._clock())

    async def admit(
        self, team_id: str, project_id: str, key_id: str, slot_id: str, tokens: int
    ) -> Status | None:
        """Count a request against its limits (None: it has none); raises RateLimited."""
        if not team_id:
            raise missing_field("team_id")
        if not slot_id or len(slot_id) > ID_LENGTH:
            raise InvalidArgument("slot_id is required", metadata={"param": "slot_id"})
        if tokens < 0:
            raise InvalidArgument("tokens must not be negative", metadata={"param": "tokens"})
        request = Request(team_id, project_id, key_id, slot_id, tokens)
        return await self._limits.admit(request, self._clock())

    async def finish(self, team_id: str, slot_id: str, tokens: int) -> None:
        if not team_id:
            raise missing_field("team_id")
        await self._limits.finish(team_id, slot_id, max(0, tokens))

    @property
    def slot_seconds(self) -> float:
        """How long a slot lives unless renewed or given back."""
        return self._limits.slot_seconds

    async def renew(self, slots: Sequence[tuple[str, str]]) -> int:
        """Extend the slots of requests still running; how many were still held."""
        if len(slots) > MAX_RENEWED:
            raise InvalidArgument(
                f"at most {MAX_RENEWED} slots at once", metadata={"param": "slots"}
            )
        return await self._limits.renew(slots, self._clock())

    def _event(self, type_: str, limit: RateLimit, actor_id: str, at: datetime) -> None:
        details = {
            "scope": limit.scope.value,
            "requestsPerMinute": str(limit.requests_per_minute),
            "tokensPerMinute": str(limit.tokens_per_minute),
            "concurrentRequests": str(limit.concurrent_requests),
        }
        actor = activity_pb2.Actor(id=actor_id, type=activity_pb2.ACTOR_TYPE_USER)
        target = activity_pb2.Target(type=limit.scope.value, id=limit.scope_id)
        self._activity.put(activity_event(limit.team_id, type_, actor, target, details, at))
