"""BillingService over gRPC: protobuf in, domain calls, protobuf out (no SQL, no rules)."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.billing.v1 import billing_pb2, billing_pb2_grpc
from tollgate_common.money import format_usd

from tollgate_billing.service import BillingService, Generation

SERVICE_NAME = "tollgate.billing.v1.BillingService"


def generation_to_proto(generation: Generation) -> billing_pb2.Generation:
    created_at = Timestamp()
    created_at.FromDatetime(generation.created_at)
    return billing_pb2.Generation(
        id=generation.id,
        team_id=generation.team_id,
        project_id=generation.project_id,
        key_id=generation.key_id,
        model=generation.model,
        provider=generation.provider,
        credential_type=generation.credential_type,
        streamed=generation.streamed,
        finish_reason=generation.finish_reason,
        input_tokens=generation.input_tokens,
        output_tokens=generation.output_tokens,
        cached_input_tokens=generation.cached_input_tokens,
        cache_write_tokens=generation.cache_write_tokens,
        reasoning_tokens=generation.reasoning_tokens,
        cost=format_usd(generation.cost),
        market_cost=format_usd(generation.market_cost),
        ttft_ms=generation.ttft_ms,
        latency_ms=generation.latency_ms,
        created_at=created_at,
        price_version=generation.price_version,
    )


class BillingServicer(billing_pb2_grpc.BillingServiceServicer):
    def __init__(self, service: BillingService) -> None:
        self._service = service

    async def GetGeneration(
        self,
        request: billing_pb2.GetGenerationRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.GetGenerationResponse:
        generation = await self._service.get_generation(request.team_id, request.generation_id)
        return billing_pb2.GetGenerationResponse(generation=generation_to_proto(generation))
