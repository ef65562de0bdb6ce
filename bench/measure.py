"""The phases the benchmark runs against one target, and what it reads off its processes.

Each phase starts with the target's processes idle and ends when they are idle again: the CPU a
phase is charged with includes what its processes spend after the last response (Tollgate's
usage facts draining through NATS into billing and activity), and how long that drain took is
reported beside it."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import psutil  # type: ignore[import-untyped]

from bench.load import Result, run

PROMPT = "hello from the benchmark harness"
# The fakes echo the prompt one word per SSE chunk: a prompt this many words longer makes each
# stream this many chunks longer. The CPU of a long stream minus that of a short one, divided by
# the extra chunks, is the cost of one chunk passed through (the per-request cost cancels out).
EXTRA_CHUNKS = 200
ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True)
class Phases:
    """How much of each phase: (at most this many requests, at most this many seconds)."""

    warmup: tuple[int, float]
    c1: tuple[int, float]
    c64: tuple[int, float]
    ttft: tuple[int, float]
    chunks: tuple[int, float]
    drain_patience: float


QUICK = Phases((100, 1.5), (300, 3), (2000, 4), (200, 2.5), (60, 3), 20)
FULL = Phases((400, 4), (2000, 12), (10000, 20), (1000, 10), (300, 10), 30)


@dataclass
class Target:
    """One row: where to send, as whom, which model, in which wire format, which processes."""

    name: str
    url: str  # base URL, /v1 included
    key: str
    model: str
    processes: dict[str, int]
    wire: str = "openai"  # "anthropic": the Messages API (the direct row to the fake Anthropic)
    baseline: str | None = None  # the direct row its added latencies are measured from
    peer: str | None = None  # the LiteLLM row its ratios are taken to
    probe: Callable[[], Any] | None = None  # read before and after the row (a team's credits)

    @property
    def pids(self) -> list[int]:
        return list(self.processes.values())

    @property
    def endpoint(self) -> str:
        return (
            f"{self.url}/messages" if self.wire == "anthropic" else f"{self.url}/chat/completions"
        )

    @property
    def headers(self) -> dict[str, str]:
        if self.wire == "anthropic":
            return {
                "x-api-key": self.key,
                "anthropic-version": ANTHROPIC_VERSION,
                "content-type": "application/json",
            }
        return {"authorization": f"Bearer {self.key}", "content-type": "application/json"}

    def body(self, stream: bool, prompt: str = PROMPT) -> bytes:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "stream": stream,
        }
        if self.wire == "anthropic":
            payload["max_tokens"] = 1024
        return orjson.dumps(payload)


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


_PAGE = 4096
_PRESENT = 1 << 63
_PFN = (1 << 55) - 1


def _frames(pid: int) -> set[int]:
    """The physical page frames ``pid`` has resident (/proc/<pid>/pagemap; the frame numbers
    read as 0 without CAP_SYS_ADMIN)."""
    frames: set[int] = set()
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for line in maps:
            start, end = (int(x, 16) for x in line.split(None, 1)[0].split("-"))
            if "[vsyscall]" in line:
                continue
            pagemap.seek(start // _PAGE * 8)
            data = pagemap.read((end - start) // _PAGE * 8)
            frames.update(
                entry & _PFN for (entry,) in struct.iter_unpack("<Q", data) if entry & _PRESENT
            )
    return frames


def memory_mib(pids: list[int]) -> tuple[float, float | None]:
    """The processes' memory together: the sum of their RSS, which counts every page they
    share (the interpreter, gRPC's and protobuf's libraries, ...) once per process, and the
    physical memory they take together, each resident page counted once (for one process: its
    RSS). The second is None where page frames cannot be read (not root)."""
    rss = 0
    frames: set[int] = set()
    readable = True
    for pid in pids:
        try:
            rss += psutil.Process(pid).memory_info().rss
            if readable:
                frames |= _frames(pid)
        except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
            continue
        except PermissionError:
            readable = False
    together = len(frames - {0}) * _PAGE / 2**20 if readable and frames - {0} else None
    return rss / 2**20, together


async def quiet(pids: list[int], patience: float) -> bool:
    """Wait until ``pids`` are idle together (under 5% of a core over half a second)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        before = cpu_seconds(pids)
        await asyncio.sleep(0.5)
        if cpu_seconds(pids) - before < 0.025:
            return True
    return False


@dataclass(frozen=True)
class Measured:
    result: Result
    cpu_by_process: dict[str, float]  # seconds, load and drain
    drain_s: float
    drained: bool

    @property
    def cpu(self) -> float:
        return sum(self.cpu_by_process.values())


async def phase(
    target: Target,
    body: bytes,
    *,
    concurrency: int,
    bound: tuple[int, float],
    stream: bool,
    patience: float,
    neighbours: tuple[int, ...] = (),
) -> Measured:
    """One load; it starts once the target and its ``neighbours`` (every other process of the
    run: the other targets, the fakes) are idle, so no row pays for the one before it."""
    await quiet([*target.pids, *neighbours], patience)
    before = {name: cpu_seconds([pid]) for name, pid in target.processes.items()}
    total, seconds = bound
    result = await run(
        target.endpoint,
        body,
        target.headers,
        concurrency=concurrency,
        total=total,
        stream=stream,
        seconds=seconds,
    )
    start = time.monotonic()
    drained = await quiet(target.pids, patience)
    drain = max(0.0, time.monotonic() - start - 0.5)  # the last half second was the quiet one
    after = {name: cpu_seconds([pid]) for name, pid in target.processes.items()}
    return Measured(result, {n: after[n] - before[n] for n in before}, drain, drained)


async def measure(
    target: Target, phases: Phases, neighbours: tuple[int, ...] = ()
) -> dict[str, Any]:
    """The raw figures of one target: latency, throughput, CPU, memory (the largest seen after a
    phase)."""
    plain, streaming = target.body(False), target.body(True)
    patience = phases.drain_patience
    rss = 0.0
    together: float | None = None
    figures: dict[str, Any] = {}

    def sample_memory() -> None:
        nonlocal rss, together
        now_rss, now_together = memory_mib(target.pids)
        rss = max(rss, now_rss)
        if now_together is not None:
            together = max(together or 0.0, now_together)

    async def run_phase(
        body: bytes, concurrency: int, bound: tuple[int, float], stream: bool
    ) -> Measured:
        return await phase(
            target,
            body,
            concurrency=concurrency,
            bound=bound,
            stream=stream,
            patience=patience,
            neighbours=neighbours,
        )

    warm = await run_phase(plain, 8, phases.warmup, False)
    sample_memory()
    for concurrency, bound in ((1, phases.c1), (64, phases.c64)):
        m = await run_phase(plain, concurrency, bound, False)
        sample_memory()
        requests = max(m.result.requests, 1)
        figures[f"c{concurrency}"] = {
            "requests": m.result.requests,
            "errors": m.result.errors,
            "failures": m.result.failures,
            "p50_ms": round(m.result.percentile(50), 3),
            "p99_ms": round(m.result.percentile(99), 3),
            "rps": round(m.result.rps, 1),
            "cpu_ms_per_request": round(m.cpu * 1000 / requests, 3),
            "cpu_ms_per_request_by_process": {
                name: round(s * 1000 / requests, 3) for name, s in m.cpu_by_process.items()
            },
            "drain_s": round(m.drain_s, 2),
            "drained": m.drained,
        }
    m = await run_phase(streaming, 1, phases.ttft, True)
    figures["ttft"] = {
        "requests": m.result.requests,
        "errors": m.result.errors,
        "p50_ms": round(m.result.percentile(50), 3),
        "p99_ms": round(m.result.percentile(99), 3),
    }
    long_body = target.body(True, " ".join([PROMPT, *["word"] * EXTRA_CHUNKS]))
    per_stream = {}
    for name, body in (("short", streaming), ("long", long_body)):
        m = await run_phase(body, 4, phases.chunks, True)
        sample_memory()
        per_stream[name] = (m.cpu / max(m.result.requests, 1), m.result.requests, m.result.errors)
    figures["stream_chunk"] = {
        "streams": {k: v[1] for k, v in per_stream.items()},
        "errors": sum(v[2] for v in per_stream.values()),
        "extra_chunks_per_stream": EXTRA_CHUNKS,
        "cpu_us_per_chunk": round(
            (per_stream["long"][0] - per_stream["short"][0]) * 1e6 / EXTRA_CHUNKS, 2
        ),
    }
    figures["rss_mib"] = round(rss, 1)
    figures["together_mib"] = None if together is None else round(together, 1)
    figures["processes"] = sorted(target.processes)
    figures["warmup_errors"] = warm.result.errors
    return figures
