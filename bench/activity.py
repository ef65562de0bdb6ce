"""Benchmark: the activity service's write and read paths on PostgreSQL.

    .venv/bin/python bench/activity.py [--facts 20000] [--base-url postgresql+asyncpg://...]

1. **Ingest**: publishes usage facts to a real ``nats-server`` (JetStream), then runs the real
   ``activity-usage`` consumer (fetch a batch → one transaction: inbox claims, request-log
   rows, rollup increments → ack) until every fact is stored; reports rows/s. The facts are
   spread over 3 teams, 5 projects each and 8 models, in time order at 2,000 a second (the
   target rate: what decides how many facts share a rollup row).
2. **Aggregate queries**: fills the rollup table with the rows a 10-million-request history
   over 30 days would leave behind (one team holding all of it, 10 models, 5 projects, traffic
   in every minute: ~231 requests a minute), then times 30-day queries through the servicer's
   ``GetObservability`` (SQL, percentiles, protobuf), each 25 times (the first 3 dropped). The raw request rows of that history are
   not generated: no query reads them (observability reads rollups only).

Creates its own database on the server (dropped afterwards); writes
``bench/results/<date>-activity.json`` and prints a summary. It asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from google.protobuf.timestamp_pb2 import Timestamp  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402
from tollgate.activity.v1 import activity_pb2  # noqa: E402
from tollgate.events.v1.usage_pb2 import UsageRecorded  # noqa: E402
from tollgate_activity.app import MIGRATIONS_DIR  # noqa: E402
from tollgate_activity.consumer import UsageConsumer  # noqa: E402
from tollgate_activity.event_repository import ActivityLogRepository  # noqa: E402
from tollgate_activity.models import request_log, request_rollup  # noqa: E402
from tollgate_activity.repository import RequestLogRepository  # noqa: E402
from tollgate_activity.rollups import (  # noqa: E402
    BUCKET_COLUMNS,
    TEAM_SCOPE,
    TTFT_BUCKETS,
    Resolution,
    ttft_bucket,
)
from tollgate_activity.service import ActivityService  # noqa: E402
from tollgate_activity.servicer import ActivityServicer  # noqa: E402
from tollgate_common.bus import USAGE_RECORDED, Bus  # noqa: E402
from tollgate_common.db import create_engine, migrate_async  # noqa: E402
from tollgate_common.testing import fresh_postgres_database, nats_server  # noqa: E402

DEFAULT_BASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
MODELS = [f"vendor/model-{index}" for index in range(10)]
PROJECTS = [f"prj_{index}" for index in range(5)]
HISTORY_DAYS = 30
HISTORY_REQUESTS = 10_000_000
TARGET_RATE = 2000


def _fact(rng: random.Random, index: int, total: int, now: dt.datetime) -> UsageRecorded:
    # In time order, as live traffic arrives, at the target rate (2,000 a second): rollup rows
    # are shared by the facts of a minute as they would be at that rate.
    created = Timestamp()
    created.FromDatetime(now - dt.timedelta(seconds=(total - index) / TARGET_RATE))
    team = rng.randrange(3)
    return UsageRecorded(
        generation_id=f"gen_bench_{index:08d}",
        team_id=f"team_{team}",
        project_id=f"prj_{team}_{rng.randrange(5)}",
        key_id="key_bench",
        user_id="user_bench",
        model=MODELS[rng.randrange(8)],
        provider="openai",
        credential_type="system",
        input_tokens=rng.randrange(10, 4000),
        output_tokens=rng.randrange(1, 1000),
        cost=f"0.{rng.randrange(10**9):09d}",
        market_cost="0.001",
        ttft_ms=int(rng.lognormvariate(5.5, 0.6)),
        latency_ms=rng.randrange(300, 5000),
        streamed=bool(index % 2),
        finish_reason="stop",
        status="success" if rng.random() > 0.02 else "error",
        created_at=created,
        app_title="bench",
        attempts=1,
    )


async def _ingest(engine: AsyncEngine, facts: int) -> dict[str, Any]:
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    service = ActivityService(RequestLogRepository(engine), ActivityLogRepository(engine))
    consumer = UsageConsumer(service)
    with tempfile.TemporaryDirectory() as store, nats_server(Path(store)) as nats_url:
        bus = await Bus.connect(nats_url, "bench-activity")
        try:
            await bus.ensure_streams()
            started = time.perf_counter()
            for index in range(facts):
                fact = _fact(rng, index, facts, now)
                await bus.publish(USAGE_RECORDED, fact.SerializeToString(), fact.generation_id)
            publish_seconds = time.perf_counter() - started

            stop = asyncio.Event()
            database = engine.url.database or ""
            started, cpu = time.perf_counter(), _cpu_seconds(database)
            task = asyncio.create_task(consumer.run(bus, stop))
            while True:
                if await _count(engine) >= facts:
                    break
                await asyncio.sleep(0.2)
            seconds = time.perf_counter() - started
            after = _cpu_seconds(database)  # before the pool's backends go away
            cpu_ms = {name: round((after[name] - cpu[name]) / facts * 1000, 3) for name in cpu}
            stop.set()
            await task
        finally:
            await bus.close()
    async with engine.connect() as conn:
        rollups = (await conn.execute(select(func.count()).select_from(request_rollup))).scalar()
    return {
        "facts": facts,
        "publish_seconds": round(publish_seconds, 2),
        "consume_seconds": round(seconds, 2),
        "rows_per_second": round(facts / seconds),
        "cpu_ms_per_row": cpu_ms,
        "cpu_ms_per_row_total": round(sum(cpu_ms.values()), 3),
        # What two idle cores would sustain at that CPU cost (derived, not measured).
        "rows_per_second_if_two_cores_were_ours": round(2000 / sum(cpu_ms.values())),
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "rollup_rows_touched": rollups,
        "note": "nats-server, the consumer and PostgreSQL share the machine's cores with "
        "whatever else runs on it (see load_average_after)",
    }


def _cpu_seconds(database: str) -> dict[str, float]:
    """CPU seconds so far of this process, its children (nats-server) and the PostgreSQL
    backends serving ``database`` (their process title names it)."""
    me = psutil.Process()
    own = me.cpu_times()
    children = sum(c.cpu_times().user + c.cpu_times().system for c in me.children(True))
    backends = 0.0
    for process in psutil.process_iter(["cmdline"]):
        title = " ".join(process.info["cmdline"] or ())
        if title.startswith("postgres:") and f" {database} " in title:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                backends += times.user + times.system
    return {"consumer": own.user + own.system, "nats": children, "postgres": backends}


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(request_log))).scalar_one())


def _history_rows(team_id: str, end: dt.datetime) -> Any:
    """The rollup rows (as tuples in table column order) of the synthetic history: every
    minute, hour and day of the last 30 days, for every model, in team and project scope."""
    rng = random.Random(11)
    shapes = []  # TTFT histograms of 50 log-normal samples each, picked from at random
    for _ in range(64):
        counts = [0] * TTFT_BUCKETS
        for _ in range(50):
            counts[ttft_bucket(int(rng.lognormvariate(5.5, 0.6)))] += 1
        shapes.append([count / 50 for count in counts])
    per_minute = HISTORY_REQUESTS / (HISTORY_DAYS * 24 * 60) / (len(MODELS) * len(PROJECTS))
    columns = [column.name for column in request_rollup.columns]
    start = end - dt.timedelta(days=HISTORY_DAYS)
    for resolution, minutes in (
        (Resolution.MINUTE, 1),
        (Resolution.HOUR, 60),
        (Resolution.DAY, 24 * 60),
    ):
        bucket = start
        while bucket < end:
            for model in MODELS:
                scopes: dict[str, dict[str, Any]] = {}
                for project in PROJECTS:
                    requests = max(1, round(rng.gauss(per_minute, 1) * minutes))
                    counts = [round(share * requests) for share in rng.choice(shapes)]
                    ttft_count = sum(counts)
                    scopes[project] = {
                        "requests": requests,
                        "errors": requests // 50,
                        "ttft_count": ttft_count,
                        "ttft_sum_ms": ttft_count * 280,
                        "input_tokens": requests * 900,
                        "output_tokens": requests * 250,
                        "spend": Decimal(requests) * Decimal("0.000731"),
                        **dict(zip(BUCKET_COLUMNS, accumulate(counts), strict=True)),
                    }
                team_sums = {
                    name: sum((s[name] for s in scopes.values()), type(v)())
                    for name, v in next(iter(scopes.values())).items()
                }
                for scope, sums in [(TEAM_SCOPE, team_sums), *scopes.items()]:
                    row = {
                        "team_id": team_id,
                        "scope": scope,
                        "resolution": resolution.value,
                        "bucket_start": bucket,
                        "model": model,
                        **sums,
                    }
                    yield tuple(row[name] for name in columns)
            bucket += dt.timedelta(minutes=minutes)


async def _fill_history(url: str, team_id: str, end: dt.datetime) -> tuple[int, float]:
    import asyncpg  # the driver itself: COPY is the fast way to load millions of rows

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    started = time.perf_counter()
    total = 0
    try:
        columns = [column.name for column in request_rollup.columns]
        batch: list[tuple[Any, ...]] = []
        for row in _history_rows(team_id, end):
            batch.append(row)
            if len(batch) == 50_000:
                await conn.copy_records_to_table("request_rollup", records=batch, columns=columns)
                total += len(batch)
                batch = []
        if batch:
            await conn.copy_records_to_table("request_rollup", records=batch, columns=columns)
            total += len(batch)
        await conn.execute("ANALYZE request_rollup")
    finally:
        await conn.close()
    return total, time.perf_counter() - started


async def _time_queries(engine: AsyncEngine, team_id: str, end: dt.datetime) -> dict[str, Any]:
    servicer = ActivityServicer(
        ActivityService(RequestLogRepository(engine), ActivityLogRepository(engine))
    )
    since, until = Timestamp(), Timestamp()
    since.FromDatetime(end - dt.timedelta(days=HISTORY_DAYS))
    until.FromDatetime(end)
    hour, day = activity_pb2.GRANULARITY_HOUR, activity_pb2.GRANULARITY_DAY
    cases = {
        "30 days hourly, team scope, requests": (hour, "", activity_pb2.METRIC_REQUESTS),
        "30 days hourly, team scope, ttft": (hour, "", activity_pb2.METRIC_TTFT),
        "30 days hourly, team scope, tokens": (hour, "", activity_pb2.METRIC_TOKENS),
        "30 days hourly, team scope, spend": (hour, "", activity_pb2.METRIC_SPEND),
        "30 days hourly, project scope, ttft": (hour, PROJECTS[0], activity_pb2.METRIC_TTFT),
        "30 days daily, team scope, ttft": (day, "", activity_pb2.METRIC_TTFT),
        "30 days daily, team scope, spend": (day, "", activity_pb2.METRIC_SPEND),
    }
    results: dict[str, Any] = {}
    for name, (granularity, project_id, metric) in cases.items():
        request = activity_pb2.GetObservabilityRequest(
            team_id=team_id,
            metric=metric,
            project_id=project_id,
            granularity=granularity,
            since=since,
            until=until,
        )
        timings: list[float] = []
        points = 0
        for _ in range(25):
            started = time.perf_counter()
            reply = await servicer.GetObservability(request, None)  # type: ignore[arg-type]
            timings.append((time.perf_counter() - started) * 1000)
            points = sum(len(series.start_seconds) for series in reply.series)
        timings = timings[3:]  # the first calls warm the pool and the plan cache
        results[name] = {
            "points": points,
            "p50_ms": round(statistics.median(timings), 2),
            "min_ms": round(min(timings), 2),
            "max_ms": round(max(timings), 2),
        }
    async with engine.connect() as conn:
        explain = await conn.execute(
            text(
                "EXPLAIN SELECT * FROM request_rollup WHERE team_id = :t AND scope = '*' "
                "AND resolution = 'hour' AND bucket_start >= :s AND bucket_start < :u"
            ),
            {"t": team_id, "s": end - dt.timedelta(days=30), "u": end},
        )
        results["plan"] = [row[0] for row in explain]
    return results


async def _run(base_url: str, facts: int) -> dict[str, Any]:
    async with fresh_postgres_database(base_url, "tollgate_activity_bench") as url:
        await migrate_async(url, MIGRATIONS_DIR)
        engine = create_engine(url)
        try:
            ingest = await _ingest(engine, facts)
            end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
            rows, fill_seconds = await _fill_history(url, "team_history", end)
            queries = await _time_queries(engine, "team_history", end)
        finally:
            await engine.dispose()
    return {
        "ingest": ingest,
        "aggregate_queries": {
            "history": {
                "requests_represented": HISTORY_REQUESTS,
                "days": HISTORY_DAYS,
                "models": len(MODELS),
                "projects": len(PROJECTS),
                "rollup_rows": rows,
                "fill_seconds": round(fill_seconds, 1),
                "note": "rollup rows of a 10M-request history; the raw rows are not generated "
                "(no observability query reads them)",
            },
            **queries,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facts", type=int, default=20_000)
    parser.add_argument(
        "--base-url", default=os.environ.get("TOLLGATE_TEST_POSTGRES_URL", DEFAULT_BASE_URL)
    )
    args = parser.parse_args()
    results = asyncio.run(_run(args.base_url, args.facts))
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "results": results,
    }
    out = ROOT / "bench" / "results" / f"{dt.date.today().isoformat()}-activity.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    ingest = results["ingest"]
    print(f"ingest: {ingest['facts']} facts in {ingest['consume_seconds']} s")
    print(f"        {ingest['rows_per_second']} request-log rows/s (with rollups)")
    for name, figures in results["aggregate_queries"].items():
        if isinstance(figures, dict) and "p50_ms" in figures:
            print(f"{name}: {figures['points']} points, p50 {figures['p50_ms']} ms")
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
