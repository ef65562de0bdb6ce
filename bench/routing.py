"""Benchmark: what one routing decision costs in the router process, with the shipped catalog.

    .venv/bin/python bench/routing.py

A decision is what the router does per request before it calls a provider: resolve the model
(and fallback models) in the catalog, check `only`, filter and rank the providers (recent
success rate and latency from the in-memory averages, then list price) and pick a credential and
an adapter for each candidate. No I/O is involved; the figures show it stays in microseconds.
The last line adds the calling team's stored BYOK credentials as a warm router has them: looked
up in memory (``TeamCredentialStore.for_team`` completing without awaiting anything) and the
team's key opened (AES-GCM) for its provider.
Writes bench/results/<date>-routing.json and prints a table. It asserts nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tollgate_router.catalog.catalog import load_catalog  # noqa: E402
from tollgate_router.credentials.system import load_system_credentials  # noqa: E402
from tollgate_router.credentials.team import TeamCredentialStore  # noqa: E402
from tollgate_router.domain import RoutingOptions  # noqa: E402
from tollgate_router.providers import build_adapters  # noqa: E402
from tollgate_router.providers.http_client import HttpClient  # noqa: E402
from tollgate_router.routing.planning import plan  # noqa: E402
from tollgate_router.routing.provider_stats import ProviderStats  # noqa: E402


def _per_call_us(fn: Callable[[], object], seconds: float = 1.0) -> dict[str, float]:
    """Mean and best-of-batches microseconds per call."""
    batch, batches = 1000, []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(batches) < 5:
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        batches.append((time.perf_counter() - start) / batch * 1e6)
    return {
        "mean_us": sum(batches) / len(batches),
        "best_us": min(batches),
        "calls": batch * len(batches),
    }


async def _scenarios() -> dict[str, dict[str, float]]:
    catalog = load_catalog(None)
    providers = sorted(catalog.providers())
    environ = {f"TOLLGATE_PROVIDER_{p.upper().replace('-', '_')}_API_KEY": "k" for p in providers}
    credentials = load_system_credentials(providers, environ)
    async with HttpClient() as client:
        adapters = build_adapters(client)
    stats = ProviderStats()
    busiest = max(catalog.models, key=lambda m: len(m.providers))
    for index, offer in enumerate(busiest.providers):  # some history, as in a warm router
        stats.record_success(offer.provider, offer.provider_model_id, 0.1 * (index + 1))
    fallback = next(m for m in catalog.models if m.id != busiest.id and m.type == "language")

    team_keys = {busiest.providers[0].provider: {"apiKey": "sk-team-key-for-the-bench"}}

    async def load(team_id: str) -> dict[str, dict[str, str]]:
        return team_keys

    # Held as when change facts are followed (the bench has no NATS).
    store = TeamCredentialStore(load, offline_max_age=float("inf"))
    await store.for_team("team_bench")

    def decide(model_ids: list[str], options: RoutingOptions) -> Callable[[], object]:
        def run() -> object:
            models = [catalog.resolve(name) for name in model_ids]
            return plan([m for m in models if m is not None], options, credentials, adapters, stats)

        return run

    def decide_for_team(model_id: str) -> Callable[[], object]:
        def run() -> object:
            lookup = store.for_team("team_bench")
            try:
                lookup.send(None)
            except StopIteration as done:  # warm: completes without awaiting anything
                stored = done.value
            else:
                raise RuntimeError("the team's credentials were not held")
            model = catalog.resolve(model_id)
            assert model is not None
            return plan([model], RoutingOptions(), credentials, adapters, stats, stored)

        return run

    return {
        f"{busiest.id} ({len(busiest.providers)} providers)": _per_call_us(
            decide([busiest.id], RoutingOptions())
        ),
        "same, with order + only": _per_call_us(
            decide(
                [busiest.id],
                RoutingOptions(
                    order=(busiest.providers[-1].provider,),
                    only=tuple(o.provider for o in busiest.providers[:3]),
                ),
            )
        ),
        "same, plus a fallback model": _per_call_us(
            decide([busiest.id, fallback.id], RoutingOptions(models=(fallback.id,)))
        ),
        "first line, with the team's stored BYOK key": _per_call_us(decide_for_team(busiest.id)),
    }


def main() -> None:
    import asyncio

    results = asyncio.run(_scenarios())
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "results": results,
    }
    out = ROOT / "bench" / "results" / f"{dt.date.today().isoformat()}-routing.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    width = max(len(name) for name in results)
    print(f"{'routing decision':<{width}}  mean µs  best µs")
    for name, figures in results.items():
        print(f"{name:<{width}}  {figures['mean_us']:7.1f}  {figures['best_us']:7.1f}")
    print(f"\nwritten to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
