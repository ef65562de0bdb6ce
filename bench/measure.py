"""The phases the benchmark runs against its targets, and what it reads off their processes.

Each phase starts with every process of the run idle and ends when the target's are idle again:
the CPU a phase is charged with includes what its processes spend after the last response
(Tollgate's usage facts draining through NATS into billing and activity), and how long that
drain took is reported beside it. The targets take each phase in turns, interleaved
(``schedule``): the machine's speed drifts by tens of percent over minutes, and a ratio of two
targets measured minutes apart would carry that drift."""

from __future__ import annotations

import asyncio
import struct
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
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
    rounds: int  # each phase split in this many turns per target, interleaved (``schedule``)


QUICK = Phases((100, 1.5), (300, 3), (2000, 4), (200, 2.5), (60, 3), 20, 2)
FULL = Phases((400, 4), (2000, 12), (10000, 20), (1000, 10), (300, 10), 30, 4)


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


@dataclass
class Tally:
    """One phase of one target over every round: its samples and counts added up, so that its
    figures are those of one phase as long as all of them together."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    cpu_by_process: Counter[str] = field(default_factory=Counter)
    drain_s: float = 0.0
    drained: bool = True

    def add(self, m: Measured) -> None:
        self.requests += m.result.requests
        self.errors += m.result.errors
        self.seconds += m.result.seconds
        self.latencies_ms.extend(m.result.latencies_ms)
        self.failures.update(m.result.failures)
        self.cpu_by_process.update(m.cpu_by_process)
        self.drain_s += m.drain_s
        self.drained = self.drained and m.drained

    @property
    def result(self) -> Result:
        return Result(
            self.requests, self.errors, self.seconds, self.latencies_ms, dict(self.failures)
        )

    @property
    def cpu(self) -> float:
        return sum(self.cpu_by_process.values())


def schedule(names: list[str], rounds: int) -> list[str]:
    """The order in which the targets take a phase: every target once per round, every other
    round in reverse (A B C C B A A B C ...), so that a machine slowing down or speeding up
    during the phase weighs on every target alike rather than on whichever came last."""
    order: list[str] = []
    for r in range(rounds):
        order.extend(names if r % 2 == 0 else reversed(names))
    return order


def _share(bound: tuple[int, float], rounds: int) -> tuple[int, float]:
    total, seconds = bound
    return -(-total // rounds), seconds / rounds


@dataclass(frozen=True)
class _Step:
    """One phase every target takes: its name, its bound in ``Phases``, its load, and whether
    the targets' memory is read after it (after the loads that hold the most)."""

    name: str
    bound: str
    concurrency: int
    stream: bool = False
    long: bool = False  # the prompt EXTRA_CHUNKS words longer
    memory: bool = False


_STEPS = (
    _Step("c1", "c1", 1),
    _Step("c64", "c64", 64, memory=True),
    _Step("ttft", "ttft", 1, stream=True),
    _Step("short", "chunks", 4, stream=True, memory=True),
    _Step("long", "chunks", 4, stream=True, long=True, memory=True),
)


async def measure_all(targets: list[Target], phases: Phases) -> dict[str, dict[str, Any]]:
    """The raw figures of every target: latency, throughput, CPU, memory (the largest seen after
    a phase). Each phase is taken by every target in turn, ``phases.rounds`` times (each time
    for its share of the phase's bound: the same requests and seconds in all), in the order of
    ``schedule``; a target's figures are those of its rounds together (the latencies pooled,
    the requests/s of all its requests over all its seconds, the CPU of all over all)."""
    everyone = {pid for target in targets for pid in target.pids}
    by_name = {target.name: target for target in targets}
    patience = phases.drain_patience
    rss: dict[str, float] = {}
    together: dict[str, float] = {}
    tallies: dict[str, dict[str, Tally]] = {t.name: {} for t in targets}
    warm_errors: dict[str, int] = {}

    def sample_memory(target: Target) -> None:
        now_rss, now_together = memory_mib(target.pids)
        rss[target.name] = max(rss.get(target.name, 0.0), now_rss)
        if now_together is not None:
            together[target.name] = max(together.get(target.name, 0.0), now_together)

    def body(target: Target, step: _Step) -> bytes:
        if step.long:
            return target.body(True, " ".join([PROMPT, *["word"] * EXTRA_CHUNKS]))
        return target.body(step.stream)

    async def run_phase(
        target: Target, body: bytes, concurrency: int, bound: tuple[int, float], stream: bool
    ) -> Measured:
        return await phase(
            target,
            body,
            concurrency=concurrency,
            bound=bound,
            stream=stream,
            patience=patience,
            neighbours=tuple(sorted(everyone - set(target.pids))),
        )

    for target in targets:
        print(f"warming {target.name} ...", file=sys.stderr, flush=True)
        warm = await run_phase(target, target.body(False), 8, phases.warmup, False)
        warm_errors[target.name] = warm.result.errors
        sample_memory(target)
    for step in _STEPS:
        bound = _share(getattr(phases, step.bound), phases.rounds)
        print(f"phase {step.name}: {phases.rounds} rounds ...", file=sys.stderr, flush=True)
        for target_name in schedule(list(by_name), phases.rounds):
            target = by_name[target_name]
            m = await run_phase(target, body(target, step), step.concurrency, bound, step.stream)
            tallies[target_name].setdefault(step.name, Tally()).add(m)
            if step.memory:
                sample_memory(target)
    return {
        t.name: _figures(
            t, tallies[t.name], rss.get(t.name, 0.0), together.get(t.name), warm_errors[t.name]
        )
        for t in targets
    }


def _figures(
    target: Target,
    tally: dict[str, Tally],
    rss: float,
    together: float | None,
    warm_errors: int,
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name in ("c1", "c64"):
        t = tally[name]
        result = t.result
        requests = max(t.requests, 1)
        figures[name] = {
            "requests": t.requests,
            "errors": t.errors,
            "failures": dict(t.failures),
            "p50_ms": round(result.percentile(50), 3),
            "p99_ms": round(result.percentile(99), 3),
            "rps": round(result.rps, 1),
            "cpu_ms_per_request": round(t.cpu * 1000 / requests, 3),
            "cpu_ms_per_request_by_process": {
                process: round(t.cpu_by_process[process] * 1000 / requests, 3)
                for process in target.processes
            },
            "drain_s": round(t.drain_s, 2),
            "drained": t.drained,
        }
    ttft = tally["ttft"]
    figures["ttft"] = {
        "requests": ttft.requests,
        "errors": ttft.errors,
        "p50_ms": round(ttft.result.percentile(50), 3),
        "p99_ms": round(ttft.result.percentile(99), 3),
    }
    short, long = tally["short"], tally["long"]
    per_stream = {n: t.cpu / max(t.requests, 1) for n, t in (("short", short), ("long", long))}
    figures["stream_chunk"] = {
        "streams": {"short": short.requests, "long": long.requests},
        "errors": short.errors + long.errors,
        "extra_chunks_per_stream": EXTRA_CHUNKS,
        "cpu_us_per_chunk": round(
            (per_stream["long"] - per_stream["short"]) * 1e6 / EXTRA_CHUNKS, 2
        ),
    }
    figures["rss_mib"] = round(rss, 1)
    figures["together_mib"] = None if together is None else round(together, 1)
    figures["processes"] = sorted(target.processes)
    figures["warmup_errors"] = warm_errors
    return figures
