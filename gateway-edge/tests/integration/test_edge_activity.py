"""``GET /v1/activity``, ``GET /v1/observability`` and the request log's time range at the
edge, in front of a test double of the activity service on a real gRPC server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.activity.v1 import activity_pb2, activity_pb2_grpc
from tollgate_common.errors import InvalidArgument
from tollgate_common.interceptors import ErrorInterceptor

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _ts(moment: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


class FakeActivityLog(activity_pb2_grpc.ActivityServiceServicer):
    def __init__(self) -> None:
        self.asked: list[Any] = []

    async def ListRequests(  # type: ignore[override]
        self, request: activity_pb2.ListRequestsRequest, context: Any
    ) -> activity_pb2.ListRequestsResponse:
        self.asked.append(request)
        return activity_pb2.ListRequestsResponse()

    async def ListActivity(  # type: ignore[override]
        self, request: activity_pb2.ListActivityRequest, context: Any
    ) -> activity_pb2.ListActivityResponse:
        self.asked.append(request)
        if request.page_token == "bad":
            raise InvalidArgument("page_token is not valid", metadata={"param": "page_token"})
        events = [
            activity_pb2.ActivityEvent(
                id="evt_2",
                team_id=request.team_id,
                type="api-key-created",
                actor_id="key_1",
                actor_type=activity_pb2.ACTOR_TYPE_API_KEY,
                account_type="team",
                target_type="api-key",
                target_id="key_2",
                project_id="prj_1",
                details={"name": "ci"},
                created_at=_ts(T0),
            ),
            activity_pb2.ActivityEvent(
                id="evt_1",
                team_id=request.team_id,
                type="team-delete",
                actor_id="user_1",
                actor_type=activity_pb2.ACTOR_TYPE_USER,
                account_type="team",
                created_at=_ts(T0),
            ),
        ]
        return activity_pb2.ListActivityResponse(events=events, next_page_token="next")

    async def GetObservability(  # type: ignore[override]
        self, request: activity_pb2.GetObservabilityRequest, context: Any
    ) -> activity_pb2.GetObservabilityResponse:
        self.asked.append(request)
        # Two buckets; the 13:00 one had only failures (no TTFT). Columns of every metric are
        # filled here so that each test can pick its own.
        series = activity_pb2.ObservabilitySeries(
            model="openai/gpt-4o",
            start_seconds=[int(T0.timestamp()), int(T0.replace(hour=13).timestamp())],
            count=[10, 2],
            ttft_avg_ms=[199.0, 0.0],
            ttft_p50_ms=[150, 0],
            ttft_p95_ms=[1000, 0],
            input_tokens=[420, 0],
            output_tokens=[70, 0],
            spend=["1.000000000000000001", "0"],
        )
        return activity_pb2.GetObservabilityResponse(
            metric=request.metric,
            granularity=request.granularity or activity_pb2.GRANULARITY_HOUR,
            since=_ts(T0.replace(day=1, hour=0)),
            until=_ts(T0.replace(hour=14)),
            series=[series],
        )


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def activity() -> AsyncIterator[tuple[FakeActivityLog, str]]:
    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    port = server.add_insecure_port("127.0.0.1:0")
    fake = FakeActivityLog()
    activity_pb2_grpc.add_ActivityServiceServicer_to_server(fake, server)
    await server.start()
    try:
        yield fake, f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


@pytest.fixture
async def served(
    edge_with: Any, activity: tuple[FakeActivityLog, str]
) -> AsyncIterator[tuple[Any, FakeActivityLog]]:
    fake, addr = activity
    async with edge_with(activity_addr=addr) as edge:
        yield edge, fake


async def _get(
    http: aiohttp.ClientSession, edge: Any, path: str, **headers: str
) -> tuple[int, Any]:
    async with http.get(f"{edge.url}{path}", headers={**edge.headers, **headers}) as reply:
        return reply.status, await reply.json()


async def test_the_activity_log_in_the_admin_api_shape(
    served: tuple[Any, FakeActivityLog], http: aiohttp.ClientSession
) -> None:
    edge, fake = served
    status, page = await _get(
        http,
        edge,
        "/v1/activity?type=api-key-created&actorId=key_1&projectId=prj_1"
        "&since=2026-03-01T00:00:00Z&until=2026-03-02&limit=10&cursor=abc",
        **{"x-tollgate-role": "viewer"},  # viewers may read
    )
    assert status == 200
    assert page == {
        "data": [
            {
                "id": "evt_2",
                "type": "api-key-created",
                "actor": {"id": "key_1", "type": "api-key"},
                "accountType": "team",
                "target": {"type": "api-key", "id": "key_2"},
                "projectId": "prj_1",
                "details": {"name": "ci"},
                "createdAt": "2026-03-01T12:00:00.000Z",
            },
            {
                "id": "evt_1",
                "type": "team-delete",
                "actor": {"id": "user_1", "type": "user"},
                "accountType": "team",
                "target": None,
                "projectId": None,
                "details": {},
                "createdAt": "2026-03-01T12:00:00.000Z",
            },
        ],
        "nextCursor": "next",
    }
    [asked] = fake.asked
    assert asked.team_id == edge.headers["x-tollgate-team-id"]
    assert (asked.type, asked.actor_id, asked.project_id) == ("api-key-created", "key_1", "prj_1")
    assert (asked.page_size, asked.page_token) == (10, "abc")
    assert asked.since.ToDatetime(UTC) == datetime(2026, 3, 1, tzinfo=UTC)
    assert asked.until.ToDatetime(UTC) == datetime(2026, 3, 2, tzinfo=UTC)


async def test_observability_shapes_per_metric(
    served: tuple[Any, FakeActivityLog], http: aiohttp.ClientSession
) -> None:
    edge, fake = served
    status, body = await _get(http, edge, "/v1/observability?metric=ttft")
    assert status == 200
    assert body == {
        "metric": "ttft",
        "scope": "team",
        "projectId": None,
        "granularity": "hour",
        "since": "2026-03-01T00:00:00.000Z",
        "until": "2026-03-01T14:00:00.000Z",
        "unit": "ms",
        # The 13:00 bucket had only failures: no TTFT to show.
        "series": [
            {
                "model": "openai/gpt-4o",
                "points": [
                    {"t": "2026-03-01T12:00:00.000Z", "value": 199.0, "p50": 150, "p95": 1000}
                ],
            }
        ],
    }
    asked = fake.asked[-1]
    assert (asked.team_id, asked.project_id) == (edge.headers["x-tollgate-team-id"], "")
    assert asked.granularity == activity_pb2.GRANULARITY_HOUR
    # Without since/until: the last 7 days of hours (until: now, the activity service's default).
    assert not asked.HasField("until")
    window = datetime.now(UTC) - asked.since.ToDatetime(UTC)
    assert timedelta(days=7) <= window <= timedelta(days=7, minutes=1)

    _, body = await _get(http, edge, "/v1/observability?metric=requests&granularity=day")
    assert body["unit"] == "count"
    assert [p["value"] for p in body["series"][0]["points"]] == [10, 2]
    assert fake.asked[-1].granularity == activity_pb2.GRANULARITY_DAY
    days = datetime.now(UTC) - fake.asked[-1].since.ToDatetime(UTC)
    assert timedelta(days=28) <= days <= timedelta(days=28, minutes=1)

    _, body = await _get(
        http, edge, "/v1/observability?metric=tokens&scope=project&projectId=prj_1"
    )
    assert (body["scope"], body["projectId"], body["unit"]) == ("project", "prj_1", "tokens")
    assert body["series"][0]["points"][0]["value"] == {"input": 420, "output": 70}
    assert fake.asked[-1].project_id == "prj_1"

    _, body = await _get(http, edge, "/v1/observability?metric=spend&projectId=prj_1")
    assert body["scope"] == "project"
    assert [p["value"] for p in body["series"][0]["points"]] == ["1.000000000000000001", "0"]
    assert body["unit"] == "USD"


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/observability?metric=latency", "metric"),
        ("/v1/observability?granularity=week", "granularity"),
        ("/v1/observability?scope=org", "scope"),
        ("/v1/observability?scope=project", "projectId"),
        ("/v1/observability?scope=team&projectId=prj_1", "projectId"),
        ("/v1/observability?since=yesterday", "since"),
        ("/v1/activity?until=2026-13-01", "until"),
        ("/v1/activity?since=2026-03-02&until=2026-03-01", "until"),
        ("/v1/activity?limit=0", "limit"),
        ("/v1/activity?type=" + "x" * 201, "type"),
        ("/v1/activity?cursor=bad", "page_token"),
        ("/v1/requests?since=not-a-time", "since"),
    ],
)
async def test_bad_parameters_are_400_with_param(
    served: tuple[Any, FakeActivityLog], http: aiohttp.ClientSession, path: str, param: str
) -> None:
    edge, _ = served
    status, body = await _get(http, edge, path)
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == param


async def test_the_request_log_passes_its_time_range_on(
    served: tuple[Any, FakeActivityLog], http: aiohttp.ClientSession
) -> None:
    edge, fake = served
    status, body = await _get(
        http, edge, "/v1/requests?since=2026-03-01T10:00:00%2B02:00&until=2026-03-01T12:00:00Z"
    )
    assert (status, body) == (200, {"data": [], "nextCursor": None})
    asked = fake.asked[-1]
    assert asked.since.ToDatetime(UTC) == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert asked.until.ToDatetime(UTC) == datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_without_identity_headers_it_is_401(
    served: tuple[Any, FakeActivityLog], http: aiohttp.ClientSession
) -> None:
    edge, fake = served
    for path in ("/v1/activity", "/v1/observability"):
        async with http.get(f"{edge.url}{path}") as reply:
            assert reply.status == 401
    assert fake.asked == []
