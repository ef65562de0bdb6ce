"""``GET /healthz`` (liveness) and ``GET /readyz`` (every peer answers grpc.health.v1 SERVING)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import grpc
from aiohttp import web
from tollgate_common.grpc_client import is_serving

from tollgate_edge.errors import ApiError
from tollgate_edge.peers import PEERS
from tollgate_edge.responses import json_response

SERVING = "serving"
NOT_SERVING = "not_serving"


class Readiness:
    """Asks every peer at most once per ``cache_seconds``; concurrent probes share one check."""

    def __init__(self, cache_seconds: float = 1.0, deadline_seconds: float = 1.0) -> None:
        self._cache_seconds = cache_seconds
        self._deadline_seconds = deadline_seconds
        self._checked_at = float("-inf")
        self._checks: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def checks(self, channels: Mapping[str, grpc.aio.Channel]) -> dict[str, str]:
        if time.monotonic() - self._checked_at < self._cache_seconds:
            return self._checks
        async with self._lock:
            if time.monotonic() - self._checked_at < self._cache_seconds:
                return self._checks
            names = list(channels)
            answers = await asyncio.gather(
                *(is_serving(channels[n], self._deadline_seconds) for n in names)
            )
            self._checks = {
                n: SERVING if ok else NOT_SERVING for n, ok in zip(names, answers, strict=True)
            }
            self._checked_at = time.monotonic()
            return self._checks


READINESS = web.AppKey("readiness", Readiness)


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    checks = await request.app[READINESS].checks(request.app[PEERS].channels)
    failing = sorted(name for name, state in checks.items() if state != SERVING)
    if not failing:
        return json_response({"status": "ready", "checks": checks})
    error = ApiError(
        503, "service_unavailable", f"not ready: {', '.join(failing)}", code="not_ready"
    )
    extra: dict[str, Any] = {"status": "unavailable", "checks": checks}
    return error.response(extra)
