"""Two billing processes on one database (SQLite; PostgreSQL when configured), each with its own
gRPC server, receiving concurrent reservations of one team: together they never hold more than
the balance, and a replica killed with kill -9 leaves its holds counted by the other."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

import grpc
import pytest
from tollgate.billing.v1 import billing_pb2, billing_pb2_grpc
from tollgate_billing.app import MIGRATIONS_DIR
from tollgate_common.db import migrate
from tollgate_common.errors import error_details
from tollgate_common.testing import free_ports, nats_server, wait_for_port

D = Decimal
TEAM = "team_replicas"
BALANCE = D(10)
HOLD = D("0.5")
REFUSED = "INSUFFICIENT_FUNDS"  # each reservation: 500 input tokens at $0.001, no output


def _spawn(
    index: int, database_url: str, nats_url: str, tmp_path: Path
) -> tuple[int, subprocess.Popen[bytes]]:
    port, metrics = free_ports(2)
    env = {
        **os.environ,
        "TOLLGATE_DATA_DIR": str(tmp_path / f"data-{index}"),
        "TOLLGATE_NATS_URL": nats_url,
        "TOLLGATE_BILLING_DATABASE_URL": database_url,
        "TOLLGATE_BILLING_MIGRATE_ON_START": "false",
        "TOLLGATE_BILLING_LISTEN_ADDR": f"127.0.0.1:{port}",
        "TOLLGATE_BILLING_METRICS_ADDR": f"127.0.0.1:{metrics}",
        # One commits its holds without waiting for PostgreSQL's WAL flush: the same decisions.
        "TOLLGATE_BILLING_HOLDS_ASYNC_COMMIT": "true" if index else "false",
    }
    log = (tmp_path / f"billing-{index}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tollgate_billing"], env=env, stdout=log, stderr=log
    )
    log.close()
    return port, process


@pytest.fixture
def replicas(
    database_url: str, tmp_path: Path
) -> Iterator[list[tuple[int, subprocess.Popen[bytes]]]]:
    migrate(database_url, MIGRATIONS_DIR)
    with nats_server(tmp_path / "js") as nats_url, ExitStack() as stack:
        running = [_spawn(i, database_url, nats_url, tmp_path) for i in range(2)]
        for _, process in running:
            stack.callback(process.wait, 30)
            stack.callback(lambda p=process: p.poll() is None and p.terminate())
        for port, _ in running:
            wait_for_port(port, timeout=60)
        yield running


async def _reserve(stub: billing_pb2_grpc.BillingServiceStub, hold_id: str) -> Decimal | str:
    """What one reservation held, or why billing refused it."""
    request = billing_pb2.ReserveRequest(
        team_id=TEAM,
        hold_id=hold_id,
        input_tokens=500,
        max_output_tokens=1,
        input_price="0.001",
        output_price="0",
    )
    try:
        reply = await stub.Reserve(request, timeout=60)
    except grpc.aio.AioRpcError as exc:
        return error_details(exc).reason or str(exc)
    return D(reply.reserved)


async def test_two_replicas_never_hold_more_than_the_balance_together(
    replicas: list[tuple[int, subprocess.Popen[bytes]]],
) -> None:
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for port, _ in replicas]
    stubs = [billing_pb2_grpc.BillingServiceStub(channel) for channel in channels]
    try:
        top_up = billing_pb2.TopUpRequest(
            team_id=TEAM, amount=str(BALANCE), idempotency_key="seed", actor_type="system"
        )
        await stubs[0].TopUp(top_up, timeout=30)
        # 60 reservations at once, alternating between the replicas: 20 fit in $10.
        held = await asyncio.gather(*(_reserve(stubs[i % 2], f"gen_{i}") for i in range(60)))
        granted = [amount for amount in held if isinstance(amount, Decimal)]
        assert sum(granted, D(0)) <= BALANCE
        assert granted == [HOLD] * int(BALANCE / HOLD)
        assert {r for r in held if isinstance(r, str)} == {REFUSED}

        # One replica dies with kill -9; the other still counts every hold.
        replicas[0][1].kill()
        replicas[0][1].wait()
        assert await _reserve(stubs[1], "gen_after") == REFUSED
        first = next(i for i, r in enumerate(held) if isinstance(r, Decimal))
        await stubs[1].Release(
            billing_pb2.ReleaseRequest(team_id=TEAM, hold_id=f"gen_{first}"), timeout=30
        )
        assert await _reserve(stubs[1], "gen_after") == HOLD
    finally:
        for channel in channels:
            await channel.close()
