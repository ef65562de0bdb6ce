"""A/B of the request path's CPU: two Tollgate stacks side by side in one run, one on the code
of a baseline commit, one on the working tree, measured alternately against one fake upstream.

    .venv/bin/python bench/hotpath.py --base <commit> [--rounds 3] [--profile DIR]

The baseline runs the router and the edge from ``git archive <commit>`` put first on their
``PYTHONPATH``; every other process is the working tree's. Logging stays at the default (INFO),
as people run it. Per round and stack it measures CPU time (user + system, psutil) by process:

* per non-streaming request (concurrency 4; ``--concurrency`` to change it);
* per streamed chunk, as a provider sends tokens (each SSE chunk its own network write, 1 ms
  apart): the CPU of a stream 400 chunks longer minus that of a short one, over 400;
* the same with the whole stream written at once (chunks read together, coalesced).

``--profile DIR`` also records the router and the edge of each stack with py-spy while a
streamed load runs (SVG flame graphs). Prints a table and writes JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tollgate_cli.stack import Ports, Stack, StackConfig  # noqa: E402

from bench.load import run  # noqa: E402
from bench.stacks import sources_at  # noqa: E402
from bench.standalone import TOLLGATE_KEY, UPSTREAM_KEY, start_upstream  # noqa: E402

MODEL = "openai/gpt-4o"
PROMPT = "hello from the benchmark harness"
EXTRA_CHUNKS = 400
PROCESSES = ("envoy", "auth", "edge", "router", "billing", "activity", "nats")


@dataclass
class Target:
    name: str
    url: str
    processes: dict[str, int]


def _cpu(processes: dict[str, int]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, pid in processes.items():
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[name] = times.user + times.system
    return out


async def _quiet(target: Target, patience: float = 15.0) -> None:
    """Wait until the stack is idle, so a phase does not pay for the facts of the last one."""
    deadline = asyncio.get_running_loop().time() + patience
    while asyncio.get_running_loop().time() < deadline:
        before = sum(_cpu(target.processes).values())
        await asyncio.sleep(0.5)
        if sum(_cpu(target.processes).values()) - before < 0.025:
            return


def _body(stream: bool, prompt: str = PROMPT) -> bytes:
    return orjson.dumps(
        {"model": MODEL, "messages": [{"role": "user", "content": prompt}], "stream": stream}
    )


async def _script(upstream: str, **behaviour: Any) -> None:
    async with aiohttp.ClientSession() as session:
        await session.post(f"{upstream}/_fake/reset")
        if behaviour:
            await session.post(f"{upstream}/_fake/script", json=behaviour)


async def _phase(
    target: Target,
    upstream: str,
    body: bytes,
    total: int,
    stream: bool,
    concurrency: int = 4,
    **behaviour: Any,
) -> tuple[int, dict[str, float]]:
    """CPU seconds by process spent on ``total`` requests."""
    await _script(upstream, times=total, **behaviour) if behaviour else await _script(upstream)
    await _quiet(target)
    before = _cpu(target.processes)
    result = await run(
        f"{target.url}/chat/completions",
        body,
        {"authorization": f"Bearer {TOLLGATE_KEY}", "content-type": "application/json"},
        concurrency=concurrency,
        total=total,
        stream=stream,
    )
    after = _cpu(target.processes)
    if result.errors:
        print(f"  {target.name}: {result.errors} errors", file=sys.stderr)
    return result.requests, {n: after[n] - before[n] for n in before if n in after}


def _per(seconds: dict[str, float], count: int, scale: float) -> dict[str, float]:
    return {n: round(s * scale / max(count, 1), 2) for n, s in seconds.items()}


async def _measure(target: Target, upstream: str, counts: dict[str, int]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    n, cpu = await _phase(
        target, upstream, _body(False), counts["plain"], False, counts["concurrency"]
    )
    figures["plain_ms_per_request"] = _per(cpu, n, 1e3)
    long_prompt = " ".join([PROMPT, *["word"] * EXTRA_CHUNKS])
    for label, delay in (("spaced", 1), ("together", 0)):
        behaviour = {"chunk_delay_ms": delay} if delay else {}
        total = counts[label]
        n1, short = await _phase(target, upstream, _body(True), total, True, **behaviour)
        n2, long = await _phase(
            target, upstream, _body(True, long_prompt), total, True, **behaviour
        )
        per_chunk = {
            name: (long[name] / max(n2, 1) - short[name] / max(n1, 1)) / EXTRA_CHUNKS
            for name in short
        }
        figures[f"{label}_us_per_chunk"] = {n: round(s * 1e6, 2) for n, s in per_chunk.items()}
        figures[f"{label}_stream_ms_per_request"] = _per(short, n1, 1e3)
    return figures


def _profile(
    target: Target, out: Path, seconds: int, native: bool
) -> list[subprocess.Popen[bytes]]:
    """py-spy on the router and the edge: a flame graph (SVG) and the collapsed stacks (txt)."""
    spy = Path(sys.executable).parent / "py-spy"
    return [
        subprocess.Popen(
            [
                str(spy),
                "record",
                *([] if native else ["--nonblocking"]),
                "-r",
                "200",
                "-d",
                str(seconds),
                "-f",
                form,
                *(["--native"] if native else []),
                "-o",
                str(out / f"{target.name}-{name}.{ext}"),
                "--pid",
                str(target.processes[name]),
            ],
            stdout=subprocess.DEVNULL,
        )
        for name in ("router", "edge")
        for form, ext in (("flamegraph", "svg"), ("raw", "txt"))
    ]


async def _profiled_load(
    target: Target, upstream: str, out: Path, seconds: int, native: bool
) -> None:
    """A streamed load (spaced chunks) and non-streaming requests while py-spy records."""
    long_prompt = " ".join([PROMPT, *["word"] * 100])
    await _script(upstream, times=100_000, chunk_delay_ms=1)
    spies = _profile(target, out, seconds, native)
    headers = {"authorization": f"Bearer {TOLLGATE_KEY}", "content-type": "application/json"}
    url = f"{target.url}/chat/completions"
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        await asyncio.gather(
            run(url, _body(True, long_prompt), headers, concurrency=2, total=8, stream=True),
            run(url, _body(False), headers, concurrency=2, total=60),
        )
    for spy in spies:
        spy.wait()
    await _script(upstream)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    counts = {
        "plain": args.plain,
        "spaced": args.spaced,
        "together": args.together,
        "concurrency": args.concurrency,
    }
    upstream_process, upstream_port = start_upstream()
    upstream = f"http://127.0.0.1:{upstream_port}"
    results: dict[str, list[dict[str, Any]]] = {"base": [], "tree": []}
    with tempfile.TemporaryDirectory() as tmp:
        base_path = Path(tmp) / "base"
        base_path.mkdir()
        pythonpath = sources_at(args.base, base_path)
        env = {
            "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"{upstream}/v1",
            "TOLLGATE_PROVIDER_OPENAI_API_KEY": UPSTREAM_KEY,
            "TOLLGATE_BOOTSTRAP_API_KEY": TOLLGATE_KEY,
        }
        configs = {
            "base": StackConfig(
                Path(tmp) / "a",
                Ports.free(),
                env={**env, "PYTHONPATH": pythonpath},
                start_timeout=300,
            ),
            "tree": StackConfig(
                Path(tmp) / "b", Ports.free(), env={**env, **args.tree_env}, start_timeout=300
            ),
        }
        try:
            with Stack(configs["base"]) as a, Stack(configs["tree"]) as b:
                targets = [
                    Target(
                        name,
                        stack.base_url,
                        {c.name: c.process.pid for c in stack.children if c.name in PROCESSES},
                    )
                    for name, stack in (("base", a), ("tree", b))
                ]
                for target in targets:  # warm caches, pools and the JIT-less interpreter alike
                    await run(
                        f"{target.url}/chat/completions",
                        _body(False),
                        {"authorization": f"Bearer {TOLLGATE_KEY}"},
                        concurrency=4,
                        total=100,
                    )
                if args.profile:
                    out = Path(args.profile)
                    for target in targets:
                        await _profiled_load(
                            target, upstream, out, args.profile_seconds, args.native
                        )
                for round_ in range(args.rounds):
                    order = targets if round_ % 2 == 0 else targets[::-1]
                    for target in order:
                        figures = await _measure(target, upstream, counts)
                        results[target.name].append(figures)
                        print(target.name, json.dumps(figures), flush=True)
        finally:
            upstream_process.terminate()
            upstream_process.wait()
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "base": args.base,
        "tree": args.tree,
        "tree_env": args.tree_env,
        "counts": counts,
        "results": results,
        "means": {name: _means(runs) for name, runs in results.items()},
    }


def _means(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for key in runs[0] if runs else ():
        names = runs[0][key]
        out[key] = {n: round(sum(r[key][n] for r in runs) / len(runs), 2) for n in names}
        out[key]["total"] = round(sum(v for k, v in out[key].items() if k != "nats"), 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="the baseline commit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--plain", type=int, default=300)
    parser.add_argument("--spaced", type=int, default=24)
    parser.add_argument("--together", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=4, help="of the non-streaming requests")
    parser.add_argument("--profile", default="", help="directory for py-spy flame graphs")
    parser.add_argument("--profile-seconds", type=int, default=20)
    parser.add_argument("--native", action="store_true", help="py-spy --native (C frames)")
    parser.add_argument(
        "--tree-env", action="append", default=[], help="KEY=VALUE for the tree's stack only"
    )
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    args.tree_env = dict(item.split("=", 1) for item in args.tree_env)
    args.tree = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        + " (+ working tree)"
    )
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    report = asyncio.run(main_async(args))
    text = json.dumps(report, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    for name, means in report["means"].items():
        print(name, json.dumps(means))


if __name__ == "__main__":
    main()
