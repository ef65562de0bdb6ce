"""ActivityService over gRPC: protobuf in, domain calls, protobuf out (no SQL, no rules)."""

from __future__ import annotations

from typing import Any

import grpc
from tollgate.activity.v1 import activity_pb2, activity_pb2_grpc

from tollgate_activity.activity_log.events import EventFilter
from tollgate_activity.activity_log.service import ActivityLogService
from tollgate_activity.convert import (
    GRANULARITIES,
    METRICS,
    RESOLUTIONS,
    entry_to_proto,
    event_to_proto,
    series_to_proto,
    time_range,
    timestamp,
)
from tollgate_activity.request_log.service import RequestFilter, RequestLogService
from tollgate_activity.rollups.service import Metric, ObservabilityService

SERVICE_NAME = "tollgate.activity.v1.ActivityService"


class ActivityServicer(activity_pb2_grpc.ActivityServiceServicer):
    def __init__(
        self,
        requests: RequestLogService,
        activity: ActivityLogService,
        observability: ObservabilityService,
    ) -> None:
        self._requests = requests
        self._activity = activity
        self._observability = observability

    async def ListRequests(
        self,
        request: activity_pb2.ListRequestsRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> activity_pb2.ListRequestsResponse:
        page = await self._requests.list_requests(
            request.team_id,
            page_size=request.page_size,
            page_token=request.page_token,
            request_filter=RequestFilter(
                model=request.model,
                provider=request.provider,
                project_id=request.project_id,
                time_range=time_range(request),
            ),
        )
        return activity_pb2.ListRequestsResponse(
            entries=[entry_to_proto(entry) for entry in page.entries],
            next_page_token=page.next_page_token,
        )

    async def ListActivity(
        self,
        request: activity_pb2.ListActivityRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> activity_pb2.ListActivityResponse:
        page = await self._activity.list_events(
            request.team_id,
            page_size=request.page_size,
            page_token=request.page_token,
            event_filter=EventFilter(
                type=request.type,
                actor_id=request.actor_id,
                project_id=request.project_id,
                time_range=time_range(request),
            ),
        )
        return activity_pb2.ListActivityResponse(
            events=[event_to_proto(event) for event in page.entries],
            next_page_token=page.next_page_token,
        )

    async def GetObservability(
        self,
        request: activity_pb2.GetObservabilityRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> activity_pb2.GetObservabilityResponse:
        metric = METRICS.get(request.metric, Metric.REQUESTS)
        query, series = await self._observability.observability(
            request.team_id,
            project_id=request.project_id,
            resolution=RESOLUTIONS.get(request.granularity),
            time_range=time_range(request),
            metric=metric,
        )
        return activity_pb2.GetObservabilityResponse(
            metric=request.metric,
            granularity=GRANULARITIES[query.resolution],
            since=timestamp(query.since),
            until=timestamp(query.until),
            series=[series_to_proto(one) for one in series],
        )
