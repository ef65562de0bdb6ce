"""Benchmark: how fast billing charges usage facts, and what a pre-flight reservation costs.

    .venv/bin/python bench/billing_consumer.py [--facts 20000] [--teams 50] [--postgres URL]
        [--live-rate 200 --live-seconds 30] [--out FILE]

1. Consumer throughput: ``--facts`` UsageRecorded facts (spread over ``--teams`` teams) are put
   on JetStream first; then the billing process (``python -m tollgate_billing``, its own
   process) starts and drains them: each fact recorded, debited to the ledger and its message
   id claimed, in batched transactions. Reported: facts/s from the first to the last commit.
   With ``--live-rate N``, facts are published at N a second for ``--live-seconds`` while
   billing runs instead (what it does while a load runs: small batches, each its own
   transaction); reported: the CPU per fact of billing and of nats-server.
2. Reserve: the Reserve RPC the router calls before each generation, over gRPC from this
   process — latency p50/p99 one at a time, and reservations/s at concurrency 32.

Runs on SQLite, and on PostgreSQL when ``--postgres`` (or ``$TOLLGATE_TEST_POSTGRES_URL``) names
a server (a scratch database is created and dropped). Writes
``bench/results/billing-<date>.json`` (or ``--out``). It asserts nothing: figures are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import psutil
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import func, select, text
from tollgate.billing.v1 import billing_pb2, billing_pb2_grpc
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_billing.models import generations
from tollgate_common.bus import USAGE_RECORDED, Bus
from tollgate_common.db import create_engine
from tollgate_common.testing import (
    POSTGRES_ENV,
    free_port,
    fresh_postgres_database,
    nats_server,
    wait_for_port,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# How long billing's idle CPU is measured before the live load starts.
IDLE_SECONDS = 5.0


def fact(index: int, teams: int, created: Timestamp) -> UsageRecorded:
    return UsageRecorded(
        generation_id=f"gen_bench_{index:08d}",
        team_id=f"team_bench_{index % teams:04d}",
        project_id="prj_bench",
        key_id="key_bench",
        user_id="user_bench",
        model="openai/gpt-4o-mini",
        provider="openai",
        provider_model_id="gpt-4o-mini",
        credential_type="system",
        input_tokens=120,
        output_tokens=40,
        cost="0.000042",
        market_cost="0.000042",
        price_version="bench",
        ttft_ms=200,
        latency_ms=900,
        streamed=True,
        finish_reason="stop",
        status="success",
        created_at=created,
    )


async def publish_live(nats_url: str, rate: int, seconds: float, teams: int) -> int:
    """Publish ``rate`` facts a second for ``seconds`` (a tick every 20 ms), as a load would;
    returns how many were published."""
    bus = await Bus.connect(nats_url, "bench-live-publisher")
    created = Timestamp()
    created.FromDatetime(dt.datetime.now(dt.UTC))
    loop = asyncio.get_running_loop()
    started, sent = loop.time(), 0
    try:
        while (elapsed := loop.time() - started) < seconds:
            due = min(int(elapsed * rate) + 1, int(seconds * rate))
            await asyncio.gather(
                *(
                    bus.publish(
                        USAGE_RECORDED,
                        fact(i, teams, created).SerializeToString(),
                        f"gen_bench_{i:08d}",
                    )
                    for i in range(sent, due)
                )
            )
            sent = max(sent, due)
            await asyncio.sleep(0.02)
    finally:
        await bus.close()
    return sent


async def publish(nats_url: str, count: int, teams: int) -> None:
    bus = await Bus.connect(nats_url, "bench-publisher")
    await bus.ensure_streams()
    created = Timestamp()
    created.FromDatetime(dt.datetime.now(dt.UTC))
    try:
        for start in range(0, count, 500):
            await asyncio.gather(
                *(
                    bus.publish(
                        USAGE_RECORDED,
                        fact(i, teams, created).SerializeToString(),
                        f"gen_bench_{i:08d}",
                    )
                    for i in range(start, min(start + 500, count))
                )
            )
    finally:
        await bus.close()


async def drain(
    url: str, count: int, limit_seconds: float, sample: Callable[[], float]
) -> tuple[float, int, int, float]:
    """Polls the generations table until ``count`` are there. Returns the seconds from the first
    poll that saw some to the one that saw all, the facts seen at that first poll, the facts
    seen, and what ``sample`` (a CPU clock) said at that first poll."""
    engine = create_engine(url)
    first: float | None = None
    at_first = done = 0
    sampled = 0.0
    deadline = time.monotonic() + limit_seconds
    query = select(func.count()).select_from(generations)
    try:
        while time.monotonic() < deadline:
            async with engine.connect() as conn:
                done = int((await conn.execute(query)).scalar_one())
            if done and first is None:
                first, at_first, sampled = time.monotonic(), done, sample()
            if done >= count:
                break
            await asyncio.sleep(0.02)
    finally:
        await engine.dispose()
    return time.monotonic() - (first or time.monotonic()), at_first, done, sampled


async def reserve_figures(addr: str, calls: int) -> dict[str, Any]:
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = billing_pb2_grpc.BillingServiceStub(channel)
        top_up = billing_pb2.TopUpRequest(
            team_id="team_reserve", amount="100000", idempotency_key="bench", actor_type="system"
        )
        await stub.TopUp(top_up, timeout=10)

        def request(i: int) -> billing_pb2.ReserveRequest:
            return billing_pb2.ReserveRequest(
                team_id="team_reserve",
                hold_id=f"gen_hold_{i}",
                input_tokens=200,
                max_output_tokens=0,
                model_max_output_tokens=16384,
                input_price="0.00000015",
                output_price="0.0000006",
            )

        latencies = []
        for i in range(calls):
            t0 = time.perf_counter()
            await stub.Reserve(request(i), timeout=10)
            latencies.append((time.perf_counter() - t0) * 1000)
            await stub.Release(
                billing_pb2.ReleaseRequest(team_id="team_reserve", hold_id=f"gen_hold_{i}")
            )
        latencies.sort()
        queue = list(range(calls, calls * 2))

        async def worker() -> None:
            while queue:
                i = queue.pop()
                await stub.Reserve(request(i), timeout=10)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(32)))
        elapsed = time.perf_counter() - t0
    return {
        "reserve_p50_ms": round(statistics.median(latencies), 3),
        "reserve_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 3),
        "reserve_per_second_concurrency_32": round(calls / elapsed),
    }


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _per_fact(seconds: float, facts: int) -> float | None:
    return round(seconds * 1000 / facts, 3) if facts else None


def _nats_process(store: Path) -> psutil.Process:
    for process in psutil.process_iter(["name", "cmdline"]):
        if str(store) in (process.info["cmdline"] or []):
            return process
    raise RuntimeError("nats-server not found")


async def _backend_cpu(url: str) -> float:
    """CPU of the PostgreSQL backends connected to the bench database (billing's pool), other
    than the one asking."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            pids = list((await conn.execute(query)).scalars())
    finally:
        await engine.dispose()
    total = 0.0
    for pid in pids:
        try:
            total += _cpu(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    return total


@asynccontextmanager
async def _billing(
    name: str, url: str, nats_url: str, tmp: Path, log_level: str
) -> AsyncIterator[tuple[psutil.Process, int]]:
    """``python -m tollgate_billing`` (its own process) on ``url`` and ``nats_url``, its log
    in ``tmp/billing-<name>.log``; yields the process and its gRPC port once it listens."""
    port = free_port()
    env = {
        **os.environ,
        "TOLLGATE_DATA_DIR": str(tmp / f"data-{name}"),
        "TOLLGATE_NATS_URL": nats_url,
        "TOLLGATE_BILLING_DATABASE_URL": url,
        "TOLLGATE_BILLING_LISTEN_ADDR": f"127.0.0.1:{port}",
        "TOLLGATE_LOG_LEVEL": os.environ.get("BENCH_BILLING_LOG_LEVEL", log_level),
    }
    with (tmp / f"billing-{name}.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tollgate_billing", env=env, stdout=log, stderr=log
        )
        try:
            await asyncio.to_thread(wait_for_port, port, 60)
            yield psutil.Process(process.pid), port
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)


async def run_one(kind: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    with nats_server(tmp / f"js-{kind}") as nats_url:
        await publish(nats_url, args.facts, args.teams)
        nats = _nats_process(tmp / f"js-{kind}")
        async with _billing(kind, url, nats_url, tmp, "WARNING") as (billing, port):
            load_before = os.getloadavg()[0]
            seconds, at_first, done, cpu_at_first = await drain(
                url, args.facts, 600, lambda: _cpu(billing) + _cpu(nats)
            )
            # From the first poll that saw facts to the last: billing + nats-server.
            pipeline_seconds = _cpu(billing) + _cpu(nats) - cpu_at_first
            billing_seconds = _cpu(billing)  # whole life, startup included
            database_seconds = await _backend_cpu(url) if kind == "postgresql" else 0.0
            figures = await reserve_figures(f"127.0.0.1:{port}", args.reserve_calls)
    return {
        "database": kind,
        "facts": args.facts,
        "teams": args.teams,
        "facts_applied": done,
        "drain_seconds": round(seconds, 3),
        "facts_per_second": round((done - at_first) / seconds) if seconds else None,
        # CPU per fact, which depends less on what else the shared machine runs than facts/s
        # does: billing + nats-server while draining (from the first poll that saw facts), the
        # billing process over its whole life (startup included), the PostgreSQL backends that
        # served billing; and what two dedicated cores would do at the draining cost.
        "drain_cpu_ms_per_fact": _per_fact(pipeline_seconds, done - at_first),
        "billing_cpu_ms_per_fact_with_startup": _per_fact(billing_seconds, done),
        "database_cpu_ms_per_fact": _per_fact(database_seconds, done),
        "cpu_bound_facts_per_second_on_2_cores": round(
            2000 / ((pipeline_seconds * 1000 / (done - at_first)) + database_seconds * 1000 / done)
        )
        if done > at_first
        else None,
        "load_average_1m_before": round(load_before, 2),
        **figures,
    }


async def run_live(kind: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Billing running while facts arrive at ``--live-rate`` a second: CPU per fact."""
    with nats_server(tmp / f"js-live-{kind}") as nats_url:
        bus = await Bus.connect(nats_url, "bench-streams")
        await bus.ensure_streams()
        await bus.close()
        nats = _nats_process(tmp / f"js-live-{kind}")
        # The default configuration: INFO, as the issue measures it.
        async with _billing(f"live-{kind}", url, nats_url, tmp, "INFO") as (billing, _port):
            await asyncio.sleep(2)  # the consumer subscribes once the server is up
            idle_before = _cpu(billing)
            await asyncio.sleep(IDLE_SECONDS)
            idle_ms_per_second = (_cpu(billing) - idle_before) * 1000 / IDLE_SECONDS
            load_before = os.getloadavg()[0]
            billing_before, nats_before = _cpu(billing), _cpu(nats)
            database_before = await _backend_cpu(url) if kind == "postgresql" else 0.0
            started = time.monotonic()
            sent = await publish_live(nats_url, args.live_rate, args.live_seconds, args.teams)
            _, _, done, _ = await drain(url, sent, 120, lambda: 0.0)
            seconds = time.monotonic() - started
            billing_ms = (_cpu(billing) - billing_before) * 1000
            nats_ms = (_cpu(nats) - nats_before) * 1000
            database_ms = (
                ((await _backend_cpu(url)) - database_before) * 1000
                if kind == "postgresql"
                else 0.0
            )
        log_lines = len((tmp / f"billing-live-{kind}.log").read_bytes().splitlines())
    return {
        "database": kind,
        "mode": "live",
        "rate_per_second": args.live_rate,
        "facts": sent,
        "facts_applied": done,
        "seconds": round(seconds, 2),
        # CPU per fact from the first fact published until the last was applied, billing
        # idling included (its lag poll, its hold expiry loop): what the load costs it.
        "billing_cpu_ms_per_fact": round(billing_ms / sent, 3) if sent else None,
        "nats_cpu_ms_per_fact": round(nats_ms / sent, 3) if sent else None,
        "database_cpu_ms_per_fact": round(database_ms / sent, 3) if sent else None,
        # What billing burns with no fact coming (its lag poll, hold expiry, NATS pings):
        # part of the per-fact figure above, at this rate.
        "billing_idle_cpu_ms_per_second": round(idle_ms_per_second, 2),
        "billing_log_lines": log_lines,
        "load_average_1m_before": round(load_before, 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=20_000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--reserve-calls", type=int, default=2_000)
    parser.add_argument("--postgres", default=os.environ.get(POSTGRES_ENV, ""))
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--live-rate", type=int, default=0, help="facts/s while billing runs")
    parser.add_argument("--live-seconds", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=None, help="the result file")
    args = parser.parse_args()
    run = run_live if args.live_rate else run_one
    results = []
    with tempfile.TemporaryDirectory(prefix="tollgate-bench-billing-") as tmp_dir:
        tmp = Path(tmp_dir)
        if not args.skip_sqlite:
            results.append(await run("sqlite", f"sqlite+aiosqlite:///{tmp / 'b.db'}", args, tmp))
            print(json.dumps(results[-1]))
        if args.postgres:
            async with AsyncExitStack() as stack:
                url = await stack.enter_async_context(
                    fresh_postgres_database(args.postgres, "tollgate_bench_billing")
                )
                results.append(await run("postgresql", url, args, tmp))
                print(json.dumps(results[-1]))
    report = {
        "date": dt.date.today().isoformat(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = args.out or RESULTS / f"billing-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    asyncio.run(main())
