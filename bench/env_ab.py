"""A/B of two configurations of the same tree: two default stacks side by side (INFO logging, a
team topped up with $20 each) in front of the same fakes, one with ``--a`` set in its environment,
one with ``--b``, measured alternately.

    .venv/bin/python bench/env_ab.py --a TOLLGATE_EDGE_GENERATION_LANES=0 [--b NAME=VALUE ...]
        [--model openai/gpt-4o] [--rounds 3] [--requests 6000] [--single 1000] [--latency-ms 0]
        [--out bench/results/<date>-env-ab.json]

Per round and stack: requests/s, refusals and CPU per request by process (user + system) over
``--requests`` non-streaming requests at concurrency 64, then the p50 of ``--single`` at
concurrency 1.
``--latency-ms`` makes both fakes wait that long before each answer, as a real provider does
(money held per generation in flight then depends on the provider, not on the gateway's speed).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tollgate_cli.stack import Ports, Stack, StackConfig  # noqa: E402

from bench import stacks  # noqa: E402
from bench.load import run  # noqa: E402
from bench.measure import Target, cpu_seconds  # noqa: E402
from bench.upstreams import fakes  # noqa: E402


def assignments(pairs: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` arguments as an environment."""
    env: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"not NAME=VALUE: {pair!r}")
        env[name] = value
    return env


async def _round(target: Target, requests: int, single: int) -> dict[str, Any]:
    body = target.body(False)
    before = {name: cpu_seconds([pid]) for name, pid in target.processes.items()}
    loaded = await run(target.endpoint, body, target.headers, concurrency=64, total=requests)
    await asyncio.sleep(1.5)  # the facts of the load drained
    cpu = {
        name: round(1000 * (cpu_seconds([pid]) - before[name]) / max(loaded.requests, 1), 3)
        for name, pid in target.processes.items()
    }
    alone = await run(target.endpoint, body, target.headers, concurrency=1, total=single)
    return {
        "rps_c64": round(loaded.rps),
        "failed_c64": loaded.errors,
        "failures": loaded.failures,
        "cpu_ms_per_request": round(sum(cpu.values()), 3),
        "cpu_by_process": cpu,
        "p50_ms_c1": round(alone.percentile(50), 3),
    }


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    envs = {"a": assignments(args.a), "b": assignments(args.b)}
    results: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    with ExitStack() as stack:
        f = stack.enter_context(fakes())
        targets = {}
        for name, extra in envs.items():
            data = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            config = StackConfig(
                data_dir=data,
                ports=Ports.free(),
                env={**stacks.stack_env(f, None), **extra},
                start_timeout=300,
            )
            running = stack.enter_context(Stack(config))
            admin = stacks.Admin(running)
            stack.callback(admin.close)
            team = admin.team(f"ab-{name}", top_up="20")
            target = Target(name, running.base_url, team.key, args.model, stacks.processes(running))
            await run(target.endpoint, target.body(False), target.headers, concurrency=8, total=500)
            targets[name] = target
        if args.latency_ms:
            async with httpx.AsyncClient() as client:
                for origin in (f.openai_url.removesuffix("/v1"), f.anthropic_origin):
                    behaviour = {"times": 10_000_000, "latency_ms": args.latency_ms}
                    await client.post(f"{origin}/_fake/script", json=behaviour)
        for round_ in range(args.rounds):
            for name in ("a", "b") if round_ % 2 == 0 else ("b", "a"):
                figures = await _round(targets[name], args.requests, args.single)
                results[name].append(figures)
                print(name, json.dumps(figures), flush=True)
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "model": args.model,
        "latency_ms": args.latency_ms,
        "env": envs,
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--b", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--model", default="openai/gpt-4o")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--single", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=0)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / f"{today}-env-ab.json"
    )
    args = parser.parse_args()
    result = asyncio.run(measure(args))
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
