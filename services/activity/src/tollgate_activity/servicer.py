"""ActivityService over gRPC: protobuf in, domain calls, protobuf out (no SQL, no rules)."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.activity.v1 import activity_pb2, activity_pb2_grpc
from tollgate_common.money import format_usd

from tollgate_activity.service import ActivityService, RequestFilter, RequestLogEntry

SERVICE_NAME = "tollgate.activity.v1.ActivityService"


def entry_to_proto(entry: RequestLogEntry) -> activity_pb2.RequestLogEntry:
    created_at = Timestamp()
    created_at.FromDatetime(entry.created_at)
    return activity_pb2.RequestLogEntry(
        generation_id=entry.generation_id,
        created_at=created_at,
        team_id=entry.team_id,
        project_id=entry.project_id,
        key_id=entry.key_id,
        model=entry.model,
        provider=entry.provider,
        credential_type=entry.credential_type,
        input_tokens=entry.input_tokens,
        output_tokens=entry.output_tokens,
        cached_input_tokens=entry.cached_input_tokens,
        reasoning_tokens=entry.reasoning_tokens,
        cost=format_usd(entry.cost),
        market_cost=format_usd(entry.market_cost),
        ttft_ms=entry.ttft_ms,
        latency_ms=entry.latency_ms,
        streamed=entry.streamed,
        finish_reason=entry.finish_reason,
        status=entry.status,
        app_title=entry.app_title,
        app_referer=entry.app_referer,
        attempts=entry.attempts,
    )


class ActivityServicer(activity_pb2_grpc.ActivityServiceServicer):
    def __init__(self, service: ActivityService) -> None:
        self._service = service

    async def ListRequests(
        self,
        request: activity_pb2.ListRequestsRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> activity_pb2.ListRequestsResponse:
        page = await self._service.list_requests(
            request.team_id,
            page_size=request.page_size,
            page_token=request.page_token,
            request_filter=RequestFilter(
                model=request.model, provider=request.provider, project_id=request.project_id
            ),
        )
        return activity_pb2.ListRequestsResponse(
            entries=[entry_to_proto(entry) for entry in page.entries],
            next_page_token=page.next_page_token,
        )
