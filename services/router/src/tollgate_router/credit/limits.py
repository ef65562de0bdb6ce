"""Rate limits: before pre-flight, a request whose team, project or key has a limit is counted
at billing, which admits or refuses it (RATE_LIMITED: the edge answers 429).

Billing keeps the counters (in its database, one locked row per limit and minute), so a limit
holds exactly however many routers serve the key. Which callers have a limit is looked up per
team and trusted for ``ttl_seconds`` (at most a second): a caller without a limit costs one
lookup per team and second, never a call per request. A request is counted at its estimated
tokens (the prompt's upper estimate plus the output it may produce); at its end the router
tells billing what it used and gives its concurrency slot back. While a request runs its slot is
renewed every third of its lifetime (one call for all of the router's live slots), so a long
stream keeps it and the slot of a router that died expires at billing within that lifetime.

Rate limits guard capacity, not money: when billing cannot be reached the request is let
through (pre-flight still decides whether the team can pay).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import grpc
from tollgate.billing.v1 import billing_pb2
from tollgate_common.errors import DomainError, InvalidArgument, error_details
from tollgate_common.ids import new_id

from tollgate_router.credit.estimates import estimate_prompt_tokens
from tollgate_router.credit.preflight import DEFAULT_OUTPUT_RESERVE, planned
from tollgate_router.domain import Caller, GenerationRequest
from tollgate_router.events import RateLimitStatus
from tollgate_router.routing.planning import Plan

if TYPE_CHECKING:
    from tollgate.billing.v1.billing_pb2_grpc import BillingServiceAsyncStub

log = logging.getLogger(__name__)

# Billing refusing the router itself (a missing or wrong internal token, an RPC it does not
# have): a misconfiguration, which fails the request loudly. Anything else (billing down, slow,
# or its database failing) is an outage: requests go on unlimited, and pre-flight still guards
# the money.
_REFUSAL_CODES = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)

TEAM, PROJECT, KEY = "team", "project", "key"


class RateLimited(DomainError):
    """A limit of the team, project or key has no room now; the metadata (from billing) names
    it (``param``), OpenAI's error type (``requests`` or ``tokens``) and ``retry_after``."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "RATE_LIMITED"


class Permit(Protocol):
    @property
    def status(self) -> RateLimitStatus | None:
        """The limits the request counted in (None: it has none)."""
        ...

    def finish(self, tokens: int) -> None:
        """The request ended having used ``tokens`` (input plus output)."""
        ...


class _Unlimited:
    status = None

    def finish(self, tokens: int) -> None:
        return None


UNLIMITED: Permit = _Unlimited()


class RateLimits(Protocol):
    async def admit(self, caller: Caller, tokens: Callable[[], int]) -> Permit:
        """Count a request at its estimated ``tokens()`` (worked out only for a caller that
        has a limit); raises RateLimited."""
        ...


class NoRateLimits:
    """For a router run without billing."""

    async def admit(self, caller: Caller, tokens: Callable[[], int]) -> Permit:
        return UNLIMITED


def generation_tokens(request: GenerationRequest, plan: Plan) -> int:
    """A generation's tokens as counted at admission: the prompt's upper estimate plus the
    output its upstream request allows (the default reserve when only the model bounds it;
    a provider option pre-flight refuses is left for it to refuse)."""
    prompt = estimate_prompt_tokens(request.messages, request.params, request.provider_options)
    try:
        output = planned(request, plan.candidates)
    except InvalidArgument:
        return prompt + DEFAULT_OUTPUT_RESERVE
    return prompt + (output.tokens or DEFAULT_OUTPUT_RESERVE) * output.choices


@dataclass(slots=True)
class _Limited:
    """The scopes of a team that have a limit, as billing last listed them."""

    scopes: frozenset[tuple[str, str]]
    until: float

    def covers(self, caller: Caller) -> bool:
        return bool(
            self.scopes
            & {(TEAM, caller.team_id), (PROJECT, caller.project_id), (KEY, caller.key_id)}
        )


# How often live slots are renewed when billing has not said how long they live.
DEFAULT_SLOT_SECONDS = 60.0
# The most slots named in one renewal (billing's own bound).
RENEW_PAGE = 1000


class _Slot:
    def __init__(
        self, limits: BillingRateLimits, team_id: str, slot_id: str, status: RateLimitStatus
    ) -> None:
        self._limits = limits
        self._team_id = team_id
        self._slot_id = slot_id
        self.status: RateLimitStatus | None = status
        self._finished = False

    def finish(self, tokens: int) -> None:
        if self._finished:
            return
        self._finished = True
        self._limits.finish(self._team_id, self._slot_id, tokens)


class BillingRateLimits:
    def __init__(
        self, stub: BillingServiceAsyncStub, *, deadline_seconds: float, ttl_seconds: float = 1.0
    ) -> None:
        self._stub = stub
        self._deadline = deadline_seconds
        self._ttl = ttl_seconds
        self._teams: dict[str, _Limited] = {}
        self._looking: dict[str, asyncio.Future[_Limited]] = {}
        self._finishing: set[asyncio.Task[None]] = set()
        self._live: dict[str, str] = {}  # slot id → team id, of requests still running
        self._slot_seconds = DEFAULT_SLOT_SECONDS

    async def admit(self, caller: Caller, tokens: Callable[[], int]) -> Permit:
        if not caller.team_id or not (await self._limited(caller.team_id)).covers(caller):
            return UNLIMITED
        slot_id = new_id("slot")
        try:
            reply = await self._stub.AdmitRequest(
                billing_pb2.AdmitRequestRequest(
                    team_id=caller.team_id,
                    project_id=caller.project_id,
                    key_id=caller.key_id,
                    slot_id=slot_id,
                    tokens=tokens(),
                ),
                timeout=self._deadline,
            )
        except grpc.aio.AioRpcError as exc:
            details = error_details(exc)
            if details.reason == RateLimited.reason:
                raise RateLimited(details.message, metadata=details.metadata) from None
            if exc.code() in _REFUSAL_CODES:
                raise  # a misconfiguration: loud, not silently unlimited
            log.warning("rate limits: billing unreachable (%s); admitting", exc.code().name)
            return UNLIMITED
        if not reply.limited:
            return UNLIMITED
        if reply.slot_seconds > 0:
            self._slot_seconds = reply.slot_seconds
        self._live[slot_id] = caller.team_id
        s = reply.status
        status = RateLimitStatus(
            s.limit_requests,
            s.remaining_requests,
            s.reset_requests_ms,
            s.limit_tokens,
            s.remaining_tokens,
            s.reset_tokens_ms,
        )
        return _Slot(self, caller.team_id, slot_id, status)

    async def _limited(self, team_id: str) -> _Limited:
        found = self._teams.get(team_id)
        if found is not None and found.until > time.monotonic():
            return found
        looking = self._looking.get(team_id)
        if looking is not None:  # one lookup per team at a time; the others share it
            return await asyncio.shield(looking)
        future: asyncio.Future[_Limited] = asyncio.get_running_loop().create_future()
        self._looking[team_id] = future
        try:
            found = await self._lookup(team_id)
            future.set_result(found)
            return found
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody may be waiting for it
            raise
        finally:
            del self._looking[team_id]

    async def _lookup(self, team_id: str) -> _Limited:
        started = time.monotonic()
        try:
            reply = await self._stub.ListRateLimits(
                billing_pb2.ListRateLimitsRequest(team_id=team_id), timeout=self._deadline
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in _REFUSAL_CODES:
                raise  # a misconfiguration: loud, not silently unlimited
            log.warning("rate limits: billing unreachable (%s); not limiting", exc.code().name)
            return _Limited(frozenset(), started)  # not kept: asked again next time
        scopes = frozenset((limit.scope, limit.scope_id) for limit in reply.rate_limits)
        found = _Limited(scopes, started + self._ttl)
        self._teams[team_id] = found
        return found

    def finish(self, team_id: str, slot_id: str, tokens: int) -> None:
        self._live.pop(slot_id, None)
        task = asyncio.get_running_loop().create_task(self._finish(team_id, slot_id, tokens))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    async def _finish(self, team_id: str, slot_id: str, tokens: int) -> None:
        with contextlib.suppress(grpc.aio.AioRpcError):  # the slot expires at billing anyway
            await self._stub.FinishRequest(
                billing_pb2.FinishRequestRequest(
                    team_id=team_id, slot_id=slot_id, tokens=max(0, tokens)
                ),
                timeout=self._deadline,
            )

    def forget(self, now: float | None = None) -> None:
        """Drop teams whose lookup expired (called now and then, so idle teams go)."""
        moment = time.monotonic() if now is None else now
        for team_id in [t for t, found in self._teams.items() if found.until <= moment]:
            del self._teams[team_id]

    async def renew(self) -> int:
        """Renew the slots of the requests still running (in pages); how many billing still
        held. A failed renewal is tried again at the next turn: a slot lives three turns."""
        live = list(self._live.items())
        renewed = 0
        for start in range(0, len(live), RENEW_PAGE):
            page = [
                billing_pb2.RequestSlot(team_id=team_id, slot_id=slot_id)
                for slot_id, team_id in live[start : start + RENEW_PAGE]
            ]
            try:
                reply = await self._stub.RenewRequestSlots(
                    billing_pb2.RenewRequestSlotsRequest(slots=page), timeout=self._deadline
                )
            except grpc.aio.AioRpcError as exc:
                log.warning("rate limits: slots not renewed (%s)", exc.code().name)
                continue
            renewed += reply.renewed
        return renewed

    async def run(self) -> None:
        """Renew live slots every third of their lifetime and forget expired lookups now and
        then; on shutdown, let the finishes go out."""
        forget_every = max(self._ttl, 1.0) * 30
        forgotten = time.monotonic()
        try:
            while True:
                await asyncio.sleep(self._slot_seconds / 3)
                await self.renew()
                if time.monotonic() - forgotten >= forget_every:
                    self.forget()
                    forgotten = time.monotonic()
        finally:
            if self._finishing:
                await asyncio.wait(set(self._finishing), timeout=self._deadline)
