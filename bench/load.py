"""A small closed-loop HTTP load generator (aiohttp): N workers, each sending one request at a
time, for a fixed number of requests."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp


@dataclass(frozen=True)
class Result:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    failures: dict[str, int] = field(default_factory=dict)  # "HTTP 402" or the exception: count

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies_ms) if self.latencies_ms else float("nan")


async def _one(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str], stream: bool
) -> float:
    """Latency in ms: of the whole response, or of the first SSE data line when streaming."""
    start = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as reply:
        if reply.status != 200:
            await reply.read()
            raise RuntimeError(f"HTTP {reply.status}")
        if not stream:
            await reply.read()
            return (time.perf_counter() - start) * 1000
        first = None
        async for line in reply.content:
            if first is None and line.startswith(b"data: "):
                first = (time.perf_counter() - start) * 1000
        assert first is not None
        return first


async def run(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    concurrency: int,
    total: int,
    stream: bool = False,
    seconds: float | None = None,
) -> Result:
    """``total`` requests, or fewer when ``seconds`` pass first (no new request starts after)."""
    latencies: list[float] = []
    errors = 0
    failures: Counter[str] = Counter()
    remaining = total
    deadline = None if seconds is None else time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0 and (deadline is None or time.perf_counter() < deadline):
                remaining -= 1
                try:
                    latencies.append(await _one(session, url, body, headers, stream))
                except (aiohttp.ClientError, RuntimeError) as error:
                    errors += 1
                    failures[
                        str(error) if isinstance(error, RuntimeError) else type(error).__name__
                    ] += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    return Result(len(latencies), errors, seconds, latencies, dict(failures))
