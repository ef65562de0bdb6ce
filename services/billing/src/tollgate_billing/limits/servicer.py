"""The rate-limit RPCs of ``tollgate.billing.v1.BillingService``: proto ⇄ domain, nothing
else."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.billing.v1 import billing_pb2

from tollgate_billing.limits.limit import RateLimit
from tollgate_billing.limits.service import RateLimitService

Context = grpc.aio.ServicerContext[Any, Any]


def _timestamp(limit: RateLimit, updated: bool) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(limit.updated_at if updated else limit.created_at)
    return stamp


def rate_limit_to_proto(limit: RateLimit) -> billing_pb2.RateLimit:
    return billing_pb2.RateLimit(
        scope=limit.scope.value,
        scope_id=limit.scope_id,
        requests_per_minute=limit.requests_per_minute,
        tokens_per_minute=limit.tokens_per_minute,
        concurrent_requests=limit.concurrent_requests,
        created_at=_timestamp(limit, False),
        updated_at=_timestamp(limit, True),
    )


def _optional(request: billing_pb2.PutRateLimitRequest, name: str) -> int | None:
    return int(getattr(request, name)) if request.HasField(name) else None


class RateLimitRpcs:
    """Mixed into :class:`tollgate_billing.servicer.BillingServicer`, which sets the service."""

    _limits: RateLimitService

    async def ListRateLimits(
        self, request: billing_pb2.ListRateLimitsRequest, context: Context
    ) -> billing_pb2.ListRateLimitsResponse:
        found = await self._limits.list(request.team_id)
        return billing_pb2.ListRateLimitsResponse(
            rate_limits=[rate_limit_to_proto(limit) for limit in found]
        )

    async def PutRateLimit(
        self, request: billing_pb2.PutRateLimitRequest, context: Context
    ) -> billing_pb2.PutRateLimitResponse:
        limit, created = await self._limits.put(
            request.team_id,
            request.scope,
            request.scope_id,
            requests_per_minute=_optional(request, "requests_per_minute"),
            tokens_per_minute=_optional(request, "tokens_per_minute"),
            concurrent_requests=_optional(request, "concurrent_requests"),
            actor_id=request.actor_id,
        )
        return billing_pb2.PutRateLimitResponse(
            rate_limit=rate_limit_to_proto(limit), created=created
        )

    async def DeleteRateLimit(
        self, request: billing_pb2.DeleteRateLimitRequest, context: Context
    ) -> billing_pb2.DeleteRateLimitResponse:
        await self._limits.delete(
            request.team_id, request.scope, request.scope_id, request.actor_id
        )
        return billing_pb2.DeleteRateLimitResponse()

    async def AdmitRequest(
        self, request: billing_pb2.AdmitRequestRequest, context: Context
    ) -> billing_pb2.AdmitRequestResponse:
        found = await self._limits.admit(
            request.team_id, request.project_id, request.key_id, request.slot_id, request.tokens
        )
        if found is None:
            return billing_pb2.AdmitRequestResponse(limited=False)
        return billing_pb2.AdmitRequestResponse(
            limited=True,
            slot_seconds=self._limits.slot_seconds,
            status=billing_pb2.RateLimitStatus(
                limit_requests=found.limit_requests,
                remaining_requests=found.remaining_requests,
                reset_requests_ms=found.reset_requests_ms,
                limit_tokens=found.limit_tokens,
                remaining_tokens=found.remaining_tokens,
                reset_tokens_ms=found.reset_tokens_ms,
            ),
        )

    async def RenewRequestSlots(
        self, request: billing_pb2.RenewRequestSlotsRequest, context: Context
    ) -> billing_pb2.RenewRequestSlotsResponse:
        slots = [(slot.team_id, slot.slot_id) for slot in request.slots]
        return billing_pb2.RenewRequestSlotsResponse(renewed=await self._limits.renew(slots))

    async def FinishRequest(
        self, request: billing_pb2.FinishRequestRequest, context: Context
    ) -> billing_pb2.FinishRequestResponse:
        await self._limits.finish(request.team_id, request.slot_id, request.tokens)
        return billing_pb2.FinishRequestResponse()
