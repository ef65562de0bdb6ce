"""The activity process end to end: real nats-server, SQLite, gRPC server on port 0."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tollgate.activity.v1 import activity_pb2, activity_pb2_grpc
from tollgate.events.v1.activity_pb2 import ActivityRecorded, Actor, ActorType, Target
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_activity.app import MIGRATIONS_DIR, ActivityApp
from tollgate_activity.settings import ActivitySettings
from tollgate_common.bus import ACTIVITY_RECORDED, USAGE_RECORDED, Bus, Delivery
from tollgate_common.db import migrate_async
from tollgate_common.errors import error_details
from tollgate_common.testing import nats_server

# The facts' time: a whole hour (the observability test reads one hour bucket) of yesterday.
# Not a fixed date: the app's retention sweep (at start, then hourly) deletes request rows older
# than TOLLGATE_ACTIVITY_REQUEST_RETENTION_DAYS (30), so a fact from a date past that is logged
# and then swept, whenever the sweep at start happens to come after the consumer stored it.
T0 = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)


@dataclass
class Running:
    app: ActivityApp
    bus: Bus
    stub: activity_pb2_grpc.ActivityServiceAsyncStub
    channel: grpc.aio.Channel

    async def publish(self, fact: UsageRecorded, msg_id: str | None = None) -> bool:
        payload = fact.SerializeToString()
        return await self.bus.publish(USAGE_RECORDED, payload, msg_id or fact.generation_id)

    async def list_requests(
        self, team_id: str, **fields: object
    ) -> activity_pb2.ListRequestsResponse:
        request = activity_pb2.ListRequestsRequest(team_id=team_id, **fields)  # type: ignore[arg-type]
        return await self.stub.ListRequests(request, timeout=5)

    async def ids(self, team_id: str, **fields: object) -> list[str]:
        return [e.generation_id for e in (await self.list_requests(team_id, **fields)).entries]


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Wait for ``condition`` (the consumer applies facts asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def usage_fact(
    generation_id: str, minutes: int = 0, team_id: str = "team_a", cost: str = "0.0000123"
) -> UsageRecorded:
    created = Timestamp()
    created.FromDatetime(T0 + timedelta(minutes=minutes))
    return UsageRecorded(
        generation_id=generation_id,
        team_id=team_id,
        project_id="prj_1",
        key_id="key_1",
        user_id="user_1",
        model="openai/gpt-4o-mini",
        provider="openai",
        credential_type="system",
        input_tokens=42,
        output_tokens=7,
        cost=cost,
        market_cost=cost,
        ttft_ms=80,
        latency_ms=300,
        streamed=False,
        finish_reason="stop",
        status="success",
        created_at=created,
        app_title="Test Suite",
        app_referer="https://tests.example/",
        attempts=1,
    )


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    with nats_server(tmp_path / "js") as nats_url:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'activity.db'}"
        await migrate_async(database_url, MIGRATIONS_DIR)
        settings = ActivitySettings(
            listen_addr="127.0.0.1:0",
            database_url=database_url,
            nats_url=nats_url,
            data_dir=tmp_path,
            shutdown_grace_seconds=1.0,
        )
        app = ActivityApp(settings)
        port = await app.start()
        bus = await Bus.connect(nats_url, "activity-test-publisher")
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        stub = activity_pb2_grpc.ActivityServiceStub(channel)
        try:
            yield Running(app, bus, stub, channel)
        finally:
            await channel.close()
            await bus.close()
            await app.stop()


async def test_a_published_fact_appears_in_the_request_log(running: Running) -> None:
    await running.publish(usage_fact("gen_01"))
    await until(lambda: _has(running, "team_a", 1))
    [entry] = (await running.list_requests("team_a")).entries
    assert entry.generation_id == "gen_01"
    assert entry.cost == "0.0000123"
    assert entry.market_cost == "0.0000123"
    assert (entry.model, entry.provider, entry.credential_type) == (
        "openai/gpt-4o-mini",
        "openai",
        "system",
    )
    assert (entry.input_tokens, entry.output_tokens, entry.ttft_ms, entry.latency_ms) == (
        42,
        7,
        80,
        300,
    )
    assert (entry.app_title, entry.app_referer, entry.attempts) == (
        "Test Suite",
        "https://tests.example/",
        1,
    )
    assert entry.created_at.ToDatetime(UTC) == T0


async def test_a_fact_is_logged_once_however_often_it_arrives(running: Running) -> None:
    fact = usage_fact("gen_dup")
    assert await running.publish(fact) is False
    assert await running.publish(fact) is True  # JetStream drops the repeat of the msg id
    # Past the dedupe window: another msg id, and the handler called directly, concurrently too.
    await running.publish(usage_fact("gen_dup", cost="99"), msg_id="gen_dup-again")
    delivery = Delivery(USAGE_RECORDED, "gen_dup", fact.SerializeToString(), num_delivered=2)
    await asyncio.gather(*(running.app.consumer.handle(delivery) for _ in range(3)))
    await running.app.consumer.handle(delivery)
    await running.publish(usage_fact("gen_after", minutes=1))
    await until(lambda: _has(running, "team_a", 2))
    entries = (await running.list_requests("team_a")).entries
    assert [e.generation_id for e in entries] == ["gen_after", "gen_dup"]
    assert entries[1].cost == "0.0000123"


async def test_pages_newest_first_and_only_the_callers_team(running: Running) -> None:
    for index in range(5):
        await running.publish(usage_fact(f"gen_{index}", minutes=index))
    await running.publish(usage_fact("gen_b", minutes=10, team_id="team_b"))
    await until(lambda: _has(running, "team_a", 5))
    await until(lambda: _has(running, "team_b", 1))

    first = await running.list_requests("team_a", page_size=2)
    second = await running.list_requests("team_a", page_size=2, page_token=first.next_page_token)
    third = await running.list_requests("team_a", page_size=2, page_token=second.next_page_token)
    assert [[e.generation_id for e in p.entries] for p in (first, second, third)] == [
        ["gen_4", "gen_3"],
        ["gen_2", "gen_1"],
        ["gen_0"],
    ]
    assert first.next_page_token and second.next_page_token
    assert third.next_page_token == ""
    assert all(e.team_id == "team_a" for p in (first, second, third) for e in p.entries)
    assert await running.ids("team_b") == ["gen_b"]
    assert await running.ids("team_c") == []
    # A cursor of team A used by team B reveals nothing of team A.
    assert await running.ids("team_b", page_token=first.next_page_token) == []
    assert await running.ids("team_a", model="other/model") == []
    assert await running.ids("team_a", provider="openai", project_id="prj_1", page_size=1) == [
        "gen_4"
    ]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"page_token": "garbage!"}, "page_token"),
        ({"page_size": -1}, "page_size"),
    ],
)
async def test_bad_requests_are_invalid_arguments(
    running: Running, fields: dict[str, object], param: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await running.list_requests("team_a", **fields)
    details = error_details(failure.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.metadata["param"] == param


async def test_a_team_is_required(running: Running) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await running.list_requests("")
    assert error_details(failure.value).metadata["param"] == "team_id"


async def test_poison_messages_do_not_block_the_consumer(running: Running) -> None:
    await running.bus.publish(USAGE_RECORDED, b"\xff\xff\xff not protobuf", "garbage-1")
    await running.publish(usage_fact("gen_bad", cost="a lot"))
    await running.publish(usage_fact("gen_good"))
    await until(lambda: _has(running, "team_a", 1))
    assert await running.ids("team_a") == ["gen_good"]


async def test_the_retention_sweep_keeps_recent_requests_and_deletes_older_ones(
    running: Running,
) -> None:
    async def recent_logged() -> bool:
        return "gen_recent" in await running.ids("team_a")

    retention = timedelta(days=running.app.settings.request_retention_days)
    old = usage_fact("gen_old")
    old.created_at.FromDatetime(datetime.now(UTC) - retention - timedelta(days=1))
    await running.publish(old)
    await running.publish(usage_fact("gen_recent"))
    # Delivered in order: once the recent fact is logged, the old one was stored (or swept).
    await until(recent_logged)
    # The sweep at start may have run before or after the consumer stored them; this one after.
    await running.app.retention.sweep()
    assert await running.ids("team_a") == ["gen_recent"]


async def test_health_reports_the_service_serving(running: Running) -> None:
    health = health_pb2_grpc.HealthStub(running.channel)
    reply = await health.Check(
        health_pb2.HealthCheckRequest(service="tollgate.activity.v1.ActivityService"), timeout=5
    )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def _has(running: Running, team_id: str, count: int) -> bool:
    return len(await running.ids(team_id, page_size=200)) >= count


def activity_fact(
    event_id: str, minutes: int = 0, team_id: str = "team_a", **fields: object
) -> ActivityRecorded:
    occurred = Timestamp()
    occurred.FromDatetime(T0 + timedelta(minutes=minutes))
    values: dict[str, object] = {
        "event_id": event_id,
        "team_id": team_id,
        "type": "team-member-add",
        "actor": Actor(id="user_owner", type=ActorType.ACTOR_TYPE_USER),
        "target": Target(type="user", id="user_new"),
        "details": {"email": "new@example.com", "role": "member"},
        "occurred_at": occurred,
    }
    values.update(fields)
    return ActivityRecorded(**values)  # type: ignore[arg-type]


async def _activity_ids(running: Running, team_id: str, **fields: object) -> list[str]:
    request = activity_pb2.ListActivityRequest(team_id=team_id, **fields)  # type: ignore[arg-type]
    reply = await running.stub.ListActivity(request, timeout=5)
    return [event.id for event in reply.events]


async def test_published_activity_facts_appear_in_the_teams_log_once(running: Running) -> None:
    first = activity_fact("evt_1")
    await running.bus.publish(ACTIVITY_RECORDED, first.SerializeToString(), "evt_1")
    # The same event again under another message id (past JetStream's window): still once.
    await running.bus.publish(ACTIVITY_RECORDED, first.SerializeToString(), "evt_1-again")
    await running.bus.publish(ACTIVITY_RECORDED, b"\xff not protobuf", "evt_garbage")
    unknown_actor = activity_fact("evt_bad", actor=Actor(id="x"))
    await running.bus.publish(ACTIVITY_RECORDED, unknown_actor.SerializeToString(), "evt_bad")
    key_event = activity_fact(
        "evt_2",
        1,
        type="api-key-created",
        project_id="prj_1",
        actor=Actor(id="key_1", type=ActorType.ACTOR_TYPE_API_KEY),
        target=Target(type="api-key", id="key_2"),
        details={"name": "ci"},
    )
    await running.bus.publish(ACTIVITY_RECORDED, key_event.SerializeToString(), "evt_2")
    other = activity_fact("evt_b", 2, team_id="team_b")
    await running.bus.publish(ACTIVITY_RECORDED, other.SerializeToString(), "evt_b")

    async def both_logged() -> bool:
        return len(await _activity_ids(running, "team_a")) >= 2

    await until(both_logged)
    reply = await running.stub.ListActivity(
        activity_pb2.ListActivityRequest(team_id="team_a"), timeout=5
    )
    assert [e.id for e in reply.events] == ["evt_2", "evt_1"]
    newest = reply.events[0]
    assert (newest.type, newest.actor_id, newest.actor_type) == (
        "api-key-created",
        "key_1",
        activity_pb2.ACTOR_TYPE_API_KEY,
    )
    assert (newest.target_type, newest.target_id, newest.project_id) == (
        "api-key",
        "key_2",
        "prj_1",
    )
    assert (newest.account_type, dict(newest.details)) == ("team", {"name": "ci"})
    assert newest.created_at.ToDatetime(UTC) == T0 + timedelta(minutes=1)
    assert await _activity_ids(running, "team_a", type="team-member-add") == ["evt_1"]
    assert await _activity_ids(running, "team_a", actor_id="key_1", project_id="prj_1") == ["evt_2"]
    assert await _activity_ids(running, "team_b") == ["evt_b"]


async def test_observability_answers_from_what_the_consumer_rolled_up(running: Running) -> None:
    for index, ttft in enumerate([40, 60, 80, 90, 120, 130, 140, 180, 250, 900]):
        fact = usage_fact(f"gen_{index}", minutes=index, cost="0.1")
        fact.ttft_ms = ttft
        await running.publish(fact)
    await running.publish(usage_fact("gen_other_team", team_id="team_b"))
    await until(lambda: _has(running, "team_a", 10))
    since, until_ = Timestamp(), Timestamp()
    since.FromDatetime(T0)
    until_.FromDatetime(T0 + timedelta(hours=1))
    reply = await running.stub.GetObservability(
        activity_pb2.GetObservabilityRequest(
            team_id="team_a",
            metric=activity_pb2.METRIC_TTFT,
            granularity=activity_pb2.GRANULARITY_HOUR,
            since=since,
            until=until_,
        ),
        timeout=5,
    )
    [series] = reply.series
    [start] = series.start_seconds
    assert start == int(T0.timestamp())
    assert series.model == "openai/gpt-4o-mini"
    assert (
        list(series.count),
        list(series.ttft_avg_ms),
        list(series.ttft_p50_ms),
        list(series.ttft_p95_ms),
    ) == ([10], [199.0], [150], [1000])
    # Columns of other metrics are not read.
    assert (list(series.input_tokens), list(series.spend)) == ([], [])
    spend = await running.stub.GetObservability(
        activity_pb2.GetObservabilityRequest(
            team_id="team_a", metric=activity_pb2.METRIC_SPEND, since=since, until=until_
        ),
        timeout=5,
    )
    assert [amount for s in spend.series for amount in s.spend] == ["1"]
    assert reply.granularity == activity_pb2.GRANULARITY_HOUR
    assert (reply.since.ToDatetime(UTC), reply.until.ToDatetime(UTC)) == (
        T0,
        T0 + timedelta(hours=1),
    )
    project = await running.stub.GetObservability(
        activity_pb2.GetObservabilityRequest(
            team_id="team_a", project_id="prj_other", since=since, until=until_
        ),
        timeout=5,
    )
    assert list(project.series) == []


async def test_an_over_long_minute_range_is_an_invalid_argument(running: Running) -> None:
    since = Timestamp()
    since.FromDatetime(T0 - timedelta(days=2))
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await running.stub.GetObservability(
            activity_pb2.GetObservabilityRequest(
                team_id="team_a", granularity=activity_pb2.GRANULARITY_MINUTE, since=since
            ),
            timeout=5,
        )
    assert error_details(failure.value).metadata["param"] == "granularity"
