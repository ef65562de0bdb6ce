"""Where a request's time goes at concurrency 1, layer by layer, from the processes' own
histograms: one default stack (INFO logging, a team topped up with $20, ``openai/gpt-4o``) in
front of the fake OpenAI, with the router's and the edge's Prometheus endpoints on.

    .venv/bin/python bench/layers.py [--requests 2000] [--out bench/results/<date>-layers.json]
    .venv/bin/python bench/layers.py --ab <commit> <commit> [--rounds 3] --out <file>
    .venv/bin/python bench/layers.py --stream [--ab ...]

``--stream`` measures streaming requests instead: the time to the first SSE data line, direct
and through Tollgate, and the CPU per request by process (histograms of a stream's handling
time end with the stream, so it has no layers).

``--ab`` runs the router and the edge of each commit (``git archive``, first on their
``PYTHONPATH``; every other process is the working tree's), alternately, a fresh stack per
measurement, and prints each layer's mean per commit: an A/B of the latency at concurrency 1.

Mean milliseconds per non-streaming request (means, not medians: the layers' means add up):

* ``direct``: the fake upstream called directly (the load generator and the fake themselves);
* ``through Tollgate``: the same call through Envoy;
* ``Envoy and the edge's HTTP server``: the Tollgate call minus the edge's handler
  (``tollgate_http_request_duration_seconds``): Envoy both ways, aiohttp's parsing and writing;
* ``edge handler, outside the router``: the handler minus the router's ``Generate``
  (``tollgate_grpc_server_handling_seconds``): the edge's own work and the gRPC hop both ways;
* ``router, outside the generation``: ``Generate`` minus the generation
  (``tollgate_generation_duration_seconds``, which ends when the usage is known): request and
  answer conversions, and the wait for the usage fact to be durable (JetStream's ack);
* ``generation``: routing, the credit hold, the provider call (the direct figure is in it).

The generation's histogram is observed in whole milliseconds (the usage record's
``latency_ms``): where a generation takes about a millisecond, the split between the last two
layers is coarse (their sum is not).

CPU per request by process (user + system) is printed beside it: at concurrency 1 the latency is
the CPU on the request's path plus one wake-up per hop.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import sys
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tollgate_cli.stack import Ports, Stack, StackConfig  # noqa: E402
from tollgate_common.testing import free_ports  # noqa: E402

from bench import stacks  # noqa: E402
from bench.load import run  # noqa: E402
from bench.measure import Target, cpu_seconds  # noqa: E402
from bench.upstreams import OPENAI_KEY, fakes  # noqa: E402

MODEL = "openai/gpt-4o"
EDGE_HANDLER = ("tollgate_http_request_duration_seconds", {"route": "/v1/chat/completions"})
ROUTER_GENERATE = ("tollgate_grpc_server_handling_seconds", {"method": "Generate"})
GENERATION = ("tollgate_generation_duration_seconds", {"model": MODEL})

_SAMPLE = re.compile(r"^(\w+?)_(sum|count)(?:\{([^}]*)\})? (\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def histogram_totals(text: str, name: str, labels: Mapping[str, str]) -> tuple[float, float]:
    """``(sum, count)`` of the histogram ``name`` in Prometheus text, over its series whose
    labels include ``labels``."""
    total, count = 0.0, 0.0
    for line in text.splitlines():
        found = _SAMPLE.match(line)
        if found is None or found.group(1) != name:
            continue
        series = dict(_LABEL.findall(found.group(3) or ""))
        if any(series.get(k) != v for k, v in labels.items()):
            continue
        if found.group(2) == "sum":
            total += float(found.group(4))
        else:
            count += float(found.group(4))
    return total, count


def mean_ms(before: str, after: str, name: str, labels: Mapping[str, str]) -> float:
    """The mean, in ms, of what ``name`` observed between two scrapes."""
    total_before, count_before = histogram_totals(before, name, labels)
    total_after, count_after = histogram_totals(after, name, labels)
    observed = count_after - count_before
    if observed <= 0:
        raise RuntimeError(f"{name} {dict(labels)} observed nothing")
    return 1000 * (total_after - total_before) / observed


def _scrape(ports: tuple[int, int]) -> str:
    return "\n".join(httpx.get(f"http://127.0.0.1:{p}/metrics").text for p in ports)


async def measure(
    requests: int, pythonpath: str | None = None, stream: bool = False
) -> dict[str, Any]:
    router_port, edge_port = free_ports(2)
    with ExitStack() as stack:
        f = stack.enter_context(fakes())
        env = stacks.stack_env(f, None)
        if pythonpath is not None:
            env["PYTHONPATH"] = pythonpath
        env["TOLLGATE_ROUTER_METRICS_ADDR"] = f"127.0.0.1:{router_port}"
        env["TOLLGATE_EDGE_METRICS_ADDR"] = f"127.0.0.1:{edge_port}"
        data = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        running = stack.enter_context(
            Stack(
                StackConfig(
                    data_dir=data, ports=Ports.free(taken=(router_port, edge_port)), env=env
                )
            )
        )
        admin = stacks.Admin(running)
        stack.callback(admin.close)
        team = admin.team("layers-20", top_up="20")
        processes = stacks.processes(running)
        tollgate = Target("tollgate", running.base_url, team.key, MODEL, processes)
        direct = Target("direct", f.openai_url, OPENAI_KEY, MODEL.split("/")[1], {})
        body = tollgate.body(stream)
        await run(
            tollgate.endpoint, body, tollgate.headers, concurrency=8, total=1000, stream=stream
        )
        direct_run = await run(
            direct.endpoint,
            direct.body(stream),
            direct.headers,
            concurrency=1,
            total=requests,
            stream=stream,
        )
        await asyncio.sleep(2)  # the facts of the warm-up drained
        before = _scrape((router_port, edge_port))
        cpu_before = {name: cpu_seconds([pid]) for name, pid in processes.items()}
        through = await run(
            tollgate.endpoint, body, tollgate.headers, concurrency=1, total=requests, stream=stream
        )
        await asyncio.sleep(2)
        cpu = {
            name: round(1000 * (cpu_seconds([pid]) - cpu_before[name]) / through.requests, 3)
            for name, pid in processes.items()
        }
        after = _scrape((router_port, edge_port))
    if stream:
        return {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "requests": through.requests,
            "errors": through.errors + direct_run.errors,
            "mean_ms": {
                "direct first chunk": round(direct_run.mean_ms, 3),
                "through Tollgate first chunk": round(through.mean_ms, 3),
            },
            "p50_ms": {
                "direct": direct_run.percentile(50),
                "through Tollgate": through.percentile(50),
            },
            "cpu_ms_per_request": cpu,
        }
    handler = mean_ms(before, after, *EDGE_HANDLER)
    generate = mean_ms(before, after, *ROUTER_GENERATE)
    generation = mean_ms(before, after, *GENERATION)
    total = through.mean_ms
    layers = {
        "direct": direct_run.mean_ms,
        "through Tollgate": total,
        "Envoy and the edge's HTTP server": total - handler,
        "edge handler, outside the router": handler - generate,
        "router, outside the generation": generate - generation,
        "generation": generation,
    }
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "requests": through.requests,
        "errors": through.errors + direct_run.errors,
        "mean_ms": {k: round(v, 3) for k, v in layers.items()},
        "p50_ms": {"direct": direct_run.percentile(50), "through Tollgate": through.percentile(50)},
        "cpu_ms_per_request": cpu,
    }


async def ab(
    commits: list[str], requests: int, rounds: int, stream: bool = False
) -> dict[str, Any]:
    """Each commit's layers, measured alternately ``rounds`` times."""
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in commits}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for commit in commits:
            into = Path(tmp) / commit
            into.mkdir()
            paths[commit] = stacks.sources_at(commit, into)
        for number in range(rounds):
            for commit in commits:
                result = await measure(requests, paths[commit], stream)
                runs[commit].append(result)
                print(f"round {number + 1} {commit}: " + _line(result["mean_ms"]), flush=True)
    means = {
        commit: {
            layer: round(sum(r["mean_ms"][layer] for r in results) / len(results), 3)
            for layer in results[0]["mean_ms"]
        }
        for commit, results in runs.items()
    }
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commits": commits,
        "rounds": rounds,
        "stream": stream,
        "mean_ms": means,
        "runs": runs,
    }


def _line(means: Mapping[str, float]) -> str:
    return ", ".join(f"{layer} {ms:.3f}" for layer, ms in means.items())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--ab", nargs=2, metavar="COMMIT", help="A/B of two commits")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stream", action="store_true", help="streaming requests: first chunk")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / f"{today}-layers.json"
    )
    args = parser.parse_args()
    if args.ab:
        result = asyncio.run(ab(args.ab, args.requests, args.rounds, args.stream))
        for commit, means in result["mean_ms"].items():
            print(f"mean {commit}: {_line(means)}")
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        return
    result = asyncio.run(measure(args.requests, stream=args.stream))
    for layer, ms in result["mean_ms"].items():
        print(f"{layer:36s} {ms:7.3f} ms")
    print("CPU ms per request:", result["cpu_ms_per_request"])
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
