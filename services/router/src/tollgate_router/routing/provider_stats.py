"""Recent success rate and latency per provider and model, as decaying averages.

Each (provider, provider model id) keeps an exponentially weighted success rate and time to first
byte. Between observations both relax towards the prior (success 1.0, latency unknown) with a
half-life, so a provider that failed a while ago is tried again instead of being starved. The
state is per router process and held in memory: it is a routing hint, not a record.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tollgate_router.usage import UsageRecord

# Weight of the newest observation in the averages.
ALPHA = 0.3
# How fast old observations are forgotten between observations.
HALF_LIFE_SECONDS = 300.0
# Ranking resolution: success rates in steps of 0.1, latencies in steps of 250 ms, so that noise
# does not reorder providers whose health is the same for practical purposes.
SUCCESS_STEP = 0.1
LATENCY_STEP_MS = 250.0


@dataclass(slots=True)
class _Entry:
    success: float
    latency_ms: float | None
    at: float  # monotonic time of the last observation
    samples: int
    tokens_per_second: float | None = None


@dataclass(frozen=True, slots=True)
class Health:
    """What ranking reads: the decayed averages now, and their ranking buckets."""

    success_rate: float
    latency_ms: float | None
    samples: int
    # Output tokens per second of the streams it finished; None when not known (recently).
    tokens_per_second: float | None = None

    @property
    def success_bucket(self) -> float:
        return round(self.success_rate / SUCCESS_STEP) * SUCCESS_STEP

    @property
    def latency_bucket(self) -> int:
        """0 when nothing is known yet (a provider not tried recently is tried optimistically)."""
        if self.latency_ms is None:
            return 0
        return math.ceil(self.latency_ms / LATENCY_STEP_MS)


_UNKNOWN = Health(1.0, None, 0)


class ProviderStats:
    def __init__(
        self,
        *,
        half_life_seconds: float = HALF_LIFE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._half_life = half_life_seconds
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}

    def record_success(self, provider: str, model: str, first_byte_seconds: float) -> None:
        self._observe(provider, model, 1.0, first_byte_seconds * 1000)

    def record_failure(self, provider: str, model: str) -> None:
        self._observe(provider, model, 0.0, None)

    def record_generation(self, record: UsageRecord) -> None:
        """A generation that streamed to its end: its output speed after the first byte."""
        if record.status == "success" and record.streamed:
            seconds = (record.latency_ms - record.ttft_ms) / 1000
            self.record_output(
                record.provider, record.provider_model_id, record.usage.output_tokens, seconds
            )

    def record_output(self, provider: str, model: str, tokens: int, seconds: float) -> None:
        """A generation it streamed: ``tokens`` output tokens in ``seconds`` after the first
        one (its output speed is what ``sort: "tps"`` ranks by)."""
        entry = self._entries.get((provider, model))
        if entry is None or tokens <= 0 or seconds <= 0:
            return
        tokens_per_second = tokens / seconds
        previous = entry.tokens_per_second if self._keep(entry) >= 0.05 else None
        entry.tokens_per_second = (
            tokens_per_second
            if previous is None
            else previous + ALPHA * (tokens_per_second - previous)
        )

    def health(self, provider: str, model: str) -> Health:
        entry = self._entries.get((provider, model))
        if entry is None:
            return _UNKNOWN
        keep = self._keep(entry)
        latency, speed = entry.latency_ms, entry.tokens_per_second
        # Latency knowledge fades out entirely once it is mostly forgotten.
        if keep < 0.05:
            latency = speed = None
        return Health(1.0 - (1.0 - entry.success) * keep, latency, entry.samples, speed)

    def _keep(self, entry: _Entry) -> float:
        elapsed = max(self._clock() - entry.at, 0.0)
        return float(0.5 ** (elapsed / self._half_life))

    def _observe(self, provider: str, model: str, success: float, latency_ms: float | None) -> None:
        now = self._clock()
        entry = self._entries.get((provider, model))
        if entry is None:
            self._entries[(provider, model)] = _Entry(success, latency_ms, now, 1)
            return
        keep = self._keep(entry)
        decayed = 1.0 - (1.0 - entry.success) * keep
        entry.success = decayed + ALPHA * (success - decayed)
        if latency_ms is not None:
            previous = entry.latency_ms if keep >= 0.05 else None
            entry.latency_ms = (
                latency_ms if previous is None else previous + ALPHA * (latency_ms - previous)
            )
        entry.at = now
        entry.samples += 1
