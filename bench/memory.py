"""Memory of a running Tollgate: RSS (and USS) per process, idle and after a load, and what each
process imported.

    .venv/bin/python bench/memory.py [--label NAME] [--env KEY=VALUE ...] [--requests N]

Starts the fake OpenAI upstream and the whole stack (as `tollgate up` does, INFO logging),
waits until it is idle, measures, sends ``--requests`` chat completions at concurrency 32 (half
of them streamed), waits until the usage facts are consumed, measures again. "together" counts
each process's private memory and each shared file once (what the stack occupies on a machine of
its own); the RSS sum counts a library every process maps once per process. What importing each
program loads (``python -X importtime``) is listed by package.
``--env`` adds variables to every child (an A/B: ``--env MALLOC_ARENA_MAX=4``).
Adds the run to bench/results/<date>-memory.json under its label and prints a table. It asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tollgate_cli.stack import Ports, Stack, StackConfig  # noqa: E402

from bench.load import run  # noqa: E402
from bench.standalone import (  # noqa: E402
    TOLLGATE_KEY,
    UPSTREAM_KEY,
    body,
    quiet,
    start_upstream,
)

_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _mappings(pid: int) -> tuple[int, dict[str, int]]:
    """A process's private memory (kB), and the shared kB of each file it maps."""
    private, shared = 0, {}
    path = ""
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            field, _, rest = line.partition(" ")
            if not field.endswith(":"):
                parts = line.split()
                path = parts[5] if len(parts) > 5 else ""
            elif field in ("Private_Clean:", "Private_Dirty:"):
                private += int(rest.split()[0])
            elif field in ("Shared_Clean:", "Shared_Dirty:") and path.startswith("/"):
                shared[path] = shared.get(path, 0) + int(rest.split()[0])
    return private, shared


def _together_mib(pids: list[int]) -> float:
    """What the processes occupy together: each one's private memory, plus each file they map
    counted once (a library every process maps is resident once; a sum of RSS counts it in
    every process)."""
    private, shared = 0, {}
    for pid in pids:
        own, files = _mappings(pid)
        private += own
        for path, kb in files.items():
            shared[path] = max(shared.get(path, 0), kb)
    return round((private + sum(shared.values())) / 1024, 1)


def _start_cpu(processes: dict[str, int]) -> dict[str, float]:
    """CPU seconds each process used so far, the children it waited for included (a service's
    migration child): at idle after the start, what starting cost."""
    figures = {}
    for name, pid in processes.items():
        times = psutil.Process(pid).cpu_times()
        figures[name] = round(
            times.user + times.system + times.children_user + times.children_system, 2
        )
    figures["total"] = round(sum(figures.values()), 2)
    return figures


def _memory(processes: dict[str, int]) -> dict[str, dict[str, float]]:
    figures = {}
    for name, pid in processes.items():
        info = psutil.Process(pid).memory_full_info()
        threads = psutil.Process(pid).num_threads()
        figures[name] = {
            "rss_mib": round(info.rss / 2**20, 1),
            "uss_mib": round(info.uss / 2**20, 1),
            "threads": threads,
        }
    figures["total"] = {
        key: round(sum(f[key] for f in figures.values()), 1)
        for key in ("rss_mib", "uss_mib", "threads")
    }
    figures["total"]["together_mib"] = _together_mib(list(processes.values()))
    return figures


def _imports(program: str, top: int = 15) -> dict[str, Any]:
    """What importing ``program`` (its ``__main__`` and ``app``) loads: how many modules in all,
    and per top-level package its number of modules and their own import time (ms), the
    packages with the most modules first."""
    packages: dict[str, list[int]] = {}
    code = f"import {program}.__main__, {program}.app"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    for line in done.stderr.splitlines():
        match = _IMPORT_LINE.search(line)
        if match is None:
            continue
        self_us, _cumulative, _indent, name = match.groups()
        counted = packages.setdefault(name.split(".")[0], [0, 0])
        counted[0] += 1
        counted[1] += int(self_us)
    heaviest = sorted(packages.items(), key=lambda item: -item[1][0])[:top]
    return {
        "modules": sum(modules for modules, _ in packages.values()),
        "self_ms": round(sum(us for _, us in packages.values()) / 1000, 1),
        "top_packages": {
            name: {"modules": n, "self_ms": round(us / 1000, 1)} for name, (n, us) in heaviest
        },
    }


async def _load(url: str, requests: int) -> dict[str, int]:
    headers = {"authorization": f"Bearer {TOLLGATE_KEY}", "content-type": "application/json"}
    model = "openai/gpt-4o-mini"
    plain = await run(url, body(model, False), headers, concurrency=32, total=requests // 2)
    streamed = await run(
        url, body(model, True), headers, concurrency=32, total=requests // 2, stream=True
    )
    return {
        "requests": plain.requests + streamed.requests,
        "errors": plain.errors + streamed.errors,
    }


async def measure(extra_env: dict[str, str], requests: int) -> dict[str, Any]:
    upstream, upstream_port = start_upstream()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = StackConfig(
                data_dir=Path(tmp) / "tollgate",
                ports=Ports.free(),
                start_timeout=300.0,  # a shared, busy machine starts slowly
                env={
                    "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
                    "TOLLGATE_PROVIDER_OPENAI_API_KEY": UPSTREAM_KEY,
                    "TOLLGATE_BOOTSTRAP_API_KEY": TOLLGATE_KEY,
                    **extra_env,
                },
            )
            with Stack(config) as stack:
                processes = {c.name: c.process.pid for c in stack.children}
                python = [c.name for c in stack.children if c.name not in ("nats", "envoy")]
                pids = list(processes.values())
                await quiet(pids, 15.0)
                await asyncio.sleep(2)
                idle = _memory(processes)
                start_cpu = _start_cpu(processes)
                load = await _load(f"{stack.base_url}/chat/completions", requests)
                await quiet(pids, 60.0)
                loaded = _memory(processes)
    finally:
        upstream.terminate()
        upstream.wait()
    imports = {name: _imports(f"tollgate_{name}") for name in python}
    return {
        "idle": idle,
        "after_load": loaded,
        "load": load,
        "start_cpu_s": start_cpu,
        "imports": imports,
    }


def _table(report: dict[str, Any]) -> str:
    idle, loaded, imports = report["idle"], report["after_load"], report["imports"]
    rows = [f"{'process':<10} {'idle RSS':>9} {'load RSS':>9} {'load USS':>9} {'thr':>4}"]
    for name in idle:
        rows.append(
            f"{name:<10} {idle[name]['rss_mib']:>9.1f} {loaded[name]['rss_mib']:>9.1f} "
            f"{loaded[name]['uss_mib']:>9.1f} {loaded[name]['threads']:>4.0f}"
        )
    for name, figures in imports.items():
        top = ", ".join(
            f"{pkg} {f['modules']}" for pkg, f in list(figures["top_packages"].items())[:10]
        )
        rows.append(f"  {name} imports {figures['modules']} modules: {top}")
    rows.append(
        f"together (shared files once): idle {idle['total']['together_mib']:.1f}, "
        f"after load {loaded['total']['together_mib']:.1f} MiB"
    )
    rows.append(f"CPU seconds to start: {report['start_cpu_s']}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="current")
    parser.add_argument("--note", default="", help="what this run measures")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for every child")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.env)
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "label": args.label,
        "note": args.note,
        "env": extra_env,
        **asyncio.run(measure(extra_env, args.requests)),
    }
    # One file a day; each run is kept under its label (a rerun replaces it).
    out = ROOT / "bench" / "results" / f"{dt.date.today().isoformat()}-memory.json"
    runs = json.loads(out.read_text())["runs"] if out.exists() else {}
    runs[args.label] = report
    out.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
    print(_table(report))
    print(f"\nwritten to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
