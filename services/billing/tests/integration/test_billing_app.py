"""The billing process end to end: real nats-server, SQLite, gRPC server on port 0."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nats.js.errors import NotFoundError
from sqlalchemy import func, select
from tollgate.billing.v1 import billing_pb2, billing_pb2_grpc
from tollgate.events.v1 import activity_pb2
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_billing.app import MIGRATIONS_DIR, BillingApp
from tollgate_billing.models import generations
from tollgate_billing.settings import BillingSettings
from tollgate_common.bus import ACTIVITY_RECORDED, USAGE_RECORDED, Bus, Delivery
from tollgate_common.db import migrate_async
from tollgate_common.errors import error_details
from tollgate_common.testing import nats_server

T = TypeVar("T")


@dataclass
class Running:
    app: BillingApp
    bus: Bus
    stub: billing_pb2_grpc.BillingServiceAsyncStub
    channel: grpc.aio.Channel

    async def publish(self, fact: UsageRecorded, msg_id: str | None = None) -> bool:
        payload = fact.SerializeToString()
        return await self.bus.publish(USAGE_RECORDED, payload, msg_id or fact.generation_id)

    async def get(self, team_id: str, generation_id: str) -> billing_pb2.Generation:
        request = billing_pb2.GetGenerationRequest(team_id=team_id, generation_id=generation_id)
        response = await self.stub.GetGeneration(request, timeout=5)
        return response.generation

    async def credits(self, team_id: str) -> billing_pb2.Credits:
        reply = await self.stub.GetCredits(billing_pb2.GetCreditsRequest(team_id=team_id))
        return reply.credits

    async def row_count(self) -> int:
        async with self.app.engine.connect() as conn:
            count = await conn.execute(select(func.count()).select_from(generations))
            return int(count.scalar_one())


async def eventually(probe: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
    """Retry ``probe`` until it stops raising (the consumer applies facts asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await probe()
        except (AssertionError, grpc.aio.AioRpcError, NotFoundError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


def usage_fact(
    generation_id: str, team_id: str = "team_a", cost: str = "0.0000123"
) -> UsageRecorded:
    created = Timestamp()
    created.FromDatetime(datetime(2026, 3, 1, 9, 30, 0, 250000, tzinfo=UTC))
    return UsageRecorded(
        generation_id=generation_id,
        team_id=team_id,
        project_id="prj_1",
        key_id="key_1",
        user_id="user_1",
        request_id="req_1",
        model="anthropic/claude-sonnet-4",
        provider="anthropic",
        provider_model_id="claude-sonnet-4-20250514",
        credential_type="system",
        input_tokens=1200,
        output_tokens=300,
        cached_input_tokens=200,
        cache_write_tokens=0,
        reasoning_tokens=0,
        cost=cost,
        market_cost=cost,
        price_version="catalog-1",
        ttft_ms=250,
        latency_ms=1800,
        streamed=True,
        finish_reason="stop",
        status="success",
        created_at=created,
    )


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    with nats_server(tmp_path / "js") as nats_url:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}"
        await migrate_async(database_url, MIGRATIONS_DIR)
        settings = BillingSettings(
            listen_addr="127.0.0.1:0",
            database_url=database_url,
            nats_url=nats_url,
            data_dir=tmp_path,
            shutdown_grace_seconds=1.0,
        )
        app = BillingApp(settings)
        port = await app.start()
        bus = await Bus.connect(nats_url, "billing-test-publisher")
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        stub = billing_pb2_grpc.BillingServiceStub(channel)
        try:
            yield Running(app, bus, stub, channel)
        finally:
            await channel.close()
            await bus.close()
            await app.stop()


async def test_a_published_fact_becomes_a_generation(running: Running) -> None:
    await running.publish(usage_fact("gen_01"))
    generation = await eventually(lambda: running.get("team_a", "gen_01"))
    assert generation.cost == "0.0000123"
    assert generation.market_cost == "0.0000123"
    assert generation.model == "anthropic/claude-sonnet-4"
    assert generation.provider == "anthropic"
    assert (generation.input_tokens, generation.output_tokens) == (1200, 300)
    assert generation.cached_input_tokens == 200
    assert generation.streamed is True
    assert generation.finish_reason == "stop"
    assert (generation.ttft_ms, generation.latency_ms) == (250, 1800)
    assert generation.price_version == "catalog-1"
    assert generation.created_at.ToDatetime(UTC) == datetime(
        2026, 3, 1, 9, 30, 0, 250000, tzinfo=UTC
    )


async def test_a_fact_is_recorded_once_however_often_it_arrives(running: Running) -> None:
    fact = usage_fact("gen_dup")
    assert await running.publish(fact) is False
    assert await running.publish(fact) is True  # JetStream drops the repeat of the msg id
    await eventually(lambda: running.get("team_a", "gen_dup"))

    # A redelivery past the dedupe window: the same fact under another msg id, and the
    # handler called directly (concurrently too). A later fact proves the consumer got
    # past the repeat.
    await running.publish(usage_fact("gen_dup", cost="99"), msg_id="gen_dup-again")
    delivery = Delivery(USAGE_RECORDED, "gen_dup", fact.SerializeToString(), num_delivered=2)
    await asyncio.gather(*(running.app.consumer.handle(delivery) for _ in range(3)))
    await running.app.consumer.handle(delivery)
    await running.publish(usage_fact("gen_after"))
    await eventually(lambda: running.get("team_a", "gen_after"))

    assert (await running.get("team_a", "gen_dup")).cost == "0.0000123"
    assert await running.row_count() == 2
    # Charged once: the free grant minus the two generations.
    credits = await running.credits("team_a")
    assert (credits.balance, credits.total_used) == ("4.9999754", "0.0000246")


async def test_another_team_cannot_see_a_generation(running: Running) -> None:
    await running.publish(usage_fact("gen_a", team_id="team_a"))
    await eventually(lambda: running.get("team_a", "gen_a"))
    for team_id, generation_id in (("team_b", "gen_a"), ("team_a", "gen_unknown")):
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await running.get(team_id, generation_id)
        details = error_details(failure.value)
        assert details.code == grpc.StatusCode.NOT_FOUND
        assert details.reason == "GENERATION_NOT_FOUND"
        assert "team_a" not in details.message


@pytest.mark.parametrize(
    ("team_id", "generation_id", "param"),
    [("", "gen_a", "team_id"), ("team_a", "", "generation_id")],
)
async def test_empty_ids_are_rejected(
    running: Running, team_id: str, generation_id: str, param: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await running.get(team_id, generation_id)
    details = error_details(failure.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.metadata["param"] == param


async def test_poison_messages_do_not_block_the_consumer(running: Running) -> None:
    await running.bus.publish(USAGE_RECORDED, b"\xff\xff\xff not protobuf", "garbage-1")
    await running.publish(usage_fact("gen_bad_cost", cost="lots"))
    await running.publish(usage_fact("gen_good"))
    await eventually(lambda: running.get("team_a", "gen_good"))
    with pytest.raises(grpc.aio.AioRpcError):
        await running.get("team_a", "gen_bad_cost")
    assert await running.row_count() == 1


async def test_health_reports_the_service_serving(running: Running) -> None:
    health = health_pb2_grpc.HealthStub(running.channel)
    reply = await health.Check(
        health_pb2.HealthCheckRequest(service="tollgate.billing.v1.BillingService"), timeout=5
    )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_byok_generation_is_charged_nothing(running: Running) -> None:
    fact = usage_fact("gen_byok")
    fact.credential_type = "byok"
    await running.publish(fact)
    generation = await eventually(lambda: running.get("team_a", "gen_byok"))
    assert (generation.cost, generation.market_cost) == ("0", "0.0000123")
    assert (await running.credits("team_a")).total_used == "0.00"


async def test_reserve_top_up_and_release_over_grpc(running: Running) -> None:
    def reserve(hold_id: str) -> billing_pb2.ReserveRequest:
        return billing_pb2.ReserveRequest(
            team_id="team_r",
            hold_id=hold_id,
            input_tokens=100,
            max_output_tokens=100,
            input_price="0.01",
            output_price="0.03",
        )  # holds 1 + 3 = 4

    first = await running.stub.Reserve(reserve("gen_1"))  # the first request: $5 free
    assert (first.reserved, first.max_output_tokens, first.available) == ("4", 0, "1")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await running.stub.Reserve(reserve("gen_2"))
    details = error_details(refused.value)
    assert (details.code, details.reason) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "INSUFFICIENT_FUNDS",
    )
    await running.stub.Release(billing_pb2.ReleaseRequest(team_id="team_r", hold_id="gen_1"))
    top_up = billing_pb2.TopUpRequest(
        team_id="team_r", amount="10", idempotency_key="o-1", actor_type="user", actor_id="u"
    )
    assert (await running.stub.TopUp(top_up)).credits.balance == "15.00"
    assert (await running.stub.TopUp(top_up)).credits.balance == "15.00"  # the same purchase

    async def last_event() -> activity_pb2.ActivityRecorded:
        message = await running.bus.js.get_last_msg("TOLLGATE_ACTIVITY", ACTIVITY_RECORDED)
        event = activity_pb2.ActivityRecorded.FromString(message.data or b"")
        assert event.type == "credits-purchased"
        return event

    event = await eventually(last_event)
    assert (event.team_id, event.actor.id, event.actor.type) == (
        "team_r",
        "u",
        activity_pb2.ACTOR_TYPE_USER,
    )
    assert event.details["amount"] == "10" and event.details["balance"] == "15"
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await running.stub.TopUp(billing_pb2.TopUpRequest(team_id="team_r", amount="0.001"))
    assert error_details(bad.value).metadata["param"] == "amount"


async def test_unsettled_holds_are_listed_per_team_and_bad_requests_refused(
    running: Running,
) -> None:
    listed = await running.stub.ListUnsettledHolds(
        billing_pb2.ListUnsettledHoldsRequest(team_id="team_a")
    )
    assert list(listed.holds) == []
    for request, param in (
        (billing_pb2.ListUnsettledHoldsRequest(), "team_id"),
        (billing_pb2.ListUnsettledHoldsRequest(team_id="team_a", limit=501), "limit"),
        (billing_pb2.ListUnsettledHoldsRequest(all_teams=True, limit=-1), "limit"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.stub.ListUnsettledHolds(request)
        details = error_details(refused.value)
        assert (details.code, details.metadata["param"]) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            param,
        )
