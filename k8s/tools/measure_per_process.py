"""Per-process CPU per request and memory per open stream: the inputs of docs/scaling.md.

``bench/run.py`` reports Tollgate's CPU summed over its processes; sizing each Deployment needs
the split. This runs the same stack and load generator as the benchmark (the fake OpenAI
upstream, ``tollgate_cli.stack``, ``bench.load``) and writes, per process (Envoy, auth, edge,
router, billing, activity, NATS):

- ``cpu_ms_per_request``: CPU time over a non-streaming run at concurrency 32, divided by the
  requests, read after the usage consumers (billing, activity) have gone idle;
- ``rss_mb_idle`` and ``rss_mb_streams``: memory before, and while ``streams`` slow SSE streams
  are open at once (the upstream waits between chunks), giving ``kb_per_stream``;
- ``cpu_ms_per_stream``: CPU time over those streams (``CHUNKS`` content chunks each) per
  stream, and ``cpu_ms_per_chunk``: what a stream costs beyond a non-streaming request, per
  content chunk.

    .venv/bin/python k8s/tools/measure_per_process.py [--requests N] [--streams N]

Writes k8s/tools/results/per-process-<date>.json. Figures are reported, nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tollgate_cli.stack import Ports, Stack, StackConfig  # noqa: E402

from bench.load import run  # noqa: E402
from bench.run import TOLLGATE_KEY, UPSTREAM_KEY, _body, _start_upstream  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
CHUNKS = 40


def _cpu(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 1e6


async def _settle(pids: dict[str, int]) -> None:
    """Wait until no process uses CPU any more (the usage consumers finish their backlog)."""
    previous = sum(_cpu(pid) for pid in pids.values())
    for _ in range(60):
        await asyncio.sleep(1.0)
        now = sum(_cpu(pid) for pid in pids.values())
        if now - previous < 0.02:
            return
        previous = now


async def measure(requests: int, streams: int) -> dict[str, Any]:
    upstream, upstream_port = _start_upstream()
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = StackConfig(
                data_dir=Path(tmp) / "tollgate",
                ports=Ports.free(),
                env={
                    "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"{upstream_url}/v1",
                    "TOLLGATE_PROVIDER_OPENAI_API_KEY": UPSTREAM_KEY,
                    "TOLLGATE_BOOTSTRAP_API_KEY": TOLLGATE_KEY,
                    "TOLLGATE_LOG_LEVEL": "WARNING",
                },
            )
            with Stack(config) as stack:
                pids = {child.name: child.process.pid for child in stack.children}
                url = f"{stack.base_url}/chat/completions"
                headers = {
                    "authorization": f"Bearer {TOLLGATE_KEY}",
                    "content-type": "application/json",
                }
                model = "openai/gpt-4o-mini"
                await run(url, _body(model, False), headers, concurrency=8, total=300)
                await _settle(pids)

                before = {name: _cpu(pid) for name, pid in pids.items()}
                result = await run(
                    url, _body(model, False), headers, concurrency=32, total=requests
                )
                await _settle(pids)
                cpu = {
                    name: round((_cpu(pid) - before[name]) * 1000 / result.requests, 3)
                    for name, pid in pids.items()
                }

                idle = {name: _rss_mb(pid) for name, pid in pids.items()}
                before = {name: _cpu(pid) for name, pid in pids.items()}
                # Each stream: CHUNKS chunks, 250 ms apart (10 s), so all are open at once.
                script = {
                    "reply": " ".join(["word"] * CHUNKS),
                    "chunk_delay_ms": 250,
                    "times": streams,
                }
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(f"{upstream_url}/_fake/script", json=script) as reply,
                ):
                    reply.raise_for_status()
                load = asyncio.create_task(
                    run(
                        url,
                        _body(model, True),
                        headers,
                        concurrency=streams,
                        total=streams,
                        stream=True,
                    )
                )
                await asyncio.sleep(6.0)
                busy = {name: _rss_mb(pid) for name, pid in pids.items()}
                streamed = await load
                await _settle(pids)
                per_stream = {
                    name: (_cpu(pid) - before[name]) * 1000 / max(streamed.requests, 1)
                    for name, pid in pids.items()
                }
    finally:
        upstream.terminate()
        upstream.wait()
    processes = {
        name: {
            "cpu_ms_per_request": cpu[name],
            "rss_mb_idle": round(idle[name], 1),
            "rss_mb_streams": round(busy[name], 1),
            "kb_per_stream": round((busy[name] - idle[name]) * 1000 / streams, 1),
            "cpu_ms_per_stream": round(per_stream[name], 3),
            "cpu_ms_per_chunk": round(max(per_stream[name] - cpu[name], 0.0) / CHUNKS, 4),
        }
        for name in pids
    }
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "non_streaming": {
            "concurrency": 32,
            "requests": result.requests,
            "errors": result.errors,
            "rps": round(result.rps, 1),
            "cpu_ms_per_request_total": round(sum(cpu.values()), 3),
        },
        "streams": {
            "open_at_once": streams,
            "content_chunks_each": CHUNKS,
            "completed": streamed.requests,
            "errors": streamed.errors,
        },
        "processes": processes,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--streams", type=int, default=500)
    args = parser.parse_args()
    report = asyncio.run(measure(args.requests, args.streams))
    OUT.mkdir(exist_ok=True)
    out = OUT / f"per-process-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
