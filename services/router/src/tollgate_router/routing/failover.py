"""The failover engine every provider call goes through: a generation, an embeddings request,
a credential test.

:class:`Failover` resolves the requested model and its fallback models in the catalog and plans
the candidates (each provider with each credential, :mod:`tollgate_router.routing.planning`);
:func:`run_candidates` tries them in order until one answers. A failure worth a retry (no answer,
an overloaded or failing provider, our credential or the model refused there) moves on to the
next candidate; any other failure is the caller's and ends the run. Each failure is recorded as
an :class:`Attempt` for the routing metadata, counted against the provider's health (unless it
was the caller's mistake) and traced. The engine knows nothing of what is asked of the provider
or of any client API: the caller passes the attempt (open a stream and wait for its first event,
embed, ...), and decides what to answer when no candidate is left.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from tollgate_common.money import ZERO, format_usd

from tollgate_router.catalog.catalog import Catalog, ModelInfo
from tollgate_router.credentials.system import SystemCredentials
from tollgate_router.credentials.team import NO_CREDENTIALS, TeamCredentialStore
from tollgate_router.domain import Attempt, Caller, GatewayMetadata, Routing, RoutingOptions
from tollgate_router.errors import ModelNotFound, NoProviderAvailable
from tollgate_router.metrics import RouterMetrics
from tollgate_router.providers import Adapters, ProviderError
from tollgate_router.routing import planning
from tollgate_router.routing.planning import Candidate, Plan
from tollgate_router.routing.provider_stats import ProviderStats
from tollgate_router.tracing import GenerationSpan

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Served(Generic[T]):
    """The candidate that answered, what its attempt returned, and when the attempt began."""

    candidate: Candidate
    result: T
    start_time: datetime


@dataclass(frozen=True, slots=True)
class Unserved:
    """No candidate answered: ``error`` ended the run (the last one, or one not worth a retry)."""

    error: ProviderError


@dataclass(frozen=True, slots=True)
class Watch:
    """Who hears of each attempt: provider health, metrics, the request's trace (all optional:
    a credential test tells nobody)."""

    stats: ProviderStats | None = None
    metrics: RouterMetrics | None = None
    trace: GenerationSpan | None = None
    operation: str = "chat"  # for the logs


def _no_timeout(candidate: Candidate) -> float | None:
    return None


async def run_candidates(
    candidates: Sequence[Candidate],
    attempt: Callable[[Candidate], Awaitable[T]],
    *,
    attempts: list[Attempt],
    seconds: Callable[[Candidate], float | None] = _no_timeout,
    watch: Watch = Watch(),
) -> Served[T] | Unserved:
    """Try ``attempt`` on each candidate in order (each within ``seconds(candidate)``);
    failed attempts are appended to ``attempts``. ``attempt`` releases what it holds when it
    raises (a timeout cancels it)."""
    error = ProviderError(0, "no provider attempted")
    for candidate in candidates:
        provider, provider_model = candidate.offer.provider, candidate.offer.provider_model_id
        span = (
            watch.trace.attempt(provider, provider_model, candidate.model.id)
            if watch.trace is not None
            else None
        )
        start, began = datetime.now(UTC), time.monotonic()
        limit, own = _limit(seconds(candidate), candidate.first_byte_timeout)
        try:
            async with asyncio.timeout(limit):
                result = await attempt(candidate)
        except TimeoutError as exc:
            error = _own_timeout(limit) if own else planning.as_provider_error(exc)
        except (ProviderError, StopAsyncIteration) as exc:
            error = planning.as_provider_error(exc)
        except BaseException:
            if span is not None:
                span.failed(0, "cancelled", "the caller went away")
            raise
        else:
            if watch.stats is not None:
                watch.stats.record_success(provider, provider_model, time.monotonic() - began)
            if span is not None:
                span.succeeded()
            return Served(candidate, result, start)
        if span is not None:
            span.failed(error.status, error.type, planning.describe(error))
        retry = planning.falls_back(error)
        if retry:  # the caller's own mistakes say nothing about the provider's health
            if watch.stats is not None:
                watch.stats.record_failure(provider, provider_model)
            if watch.metrics is not None:
                watch.metrics.upstream_error(provider, error.status)
        (log.warning if retry else log.debug)(
            "provider %s failed %s for %s: %s",
            provider,
            watch.operation,
            candidate.model.id,
            planning.describe(error),
        )
        attempts.append(refused(candidate, start, error))
        if not retry:
            break
    return Unserved(error)


def _limit(seconds: float | None, requested: float | None) -> tuple[float | None, bool]:
    """The time an attempt has to answer, and whether it is the request's ``providerTimeouts``
    (the shorter of that and the gateway's own limit)."""
    if requested is not None and (seconds is None or requested <= seconds):
        return requested, True
    return seconds, False


def _own_timeout(seconds: float | None) -> ProviderError:
    return ProviderError(
        0,
        f"no first byte within providerTimeouts ({round((seconds or 0) * 1000)} ms)",
        type="timeout",
    )


def refused(candidate: Candidate, start: datetime, error: ProviderError) -> Attempt:
    """An attempt that ended without an answer."""
    return Attempt(
        provider=candidate.offer.provider,
        provider_model_id=candidate.offer.provider_model_id,
        success=False,
        start_time=start,
        end_time=datetime.now(UTC),
        status_code=error.status,
        error_message=planning.describe(error),
        credential_type=candidate.credential_type,
        model_id=candidate.model.id,
    )


def answered(
    served: Served[T], response_id: str = "", failure: ProviderError | None = None
) -> Attempt:
    """The attempt that answered (``failure``: its answer broke off after the first byte)."""
    candidate = served.candidate
    return Attempt(
        provider=candidate.offer.provider,
        provider_model_id=candidate.offer.provider_model_id,
        success=failure is None,
        start_time=served.start_time,
        end_time=datetime.now(UTC),
        status_code=200,
        provider_response_id=response_id,
        error_message="" if failure is None else planning.describe(failure),
        credential_type=candidate.credential_type,
        model_id=candidate.model.id,
    )


def time_left(timeout: float | None, t0: float) -> float | None:
    """What is left of the caller's deadline (``timeout`` seconds from monotonic ``t0``)."""
    if timeout is None:
        return None
    return max(timeout - (time.monotonic() - t0), 0.001)


def charged(candidate: Candidate, market_cost: Decimal) -> Decimal:
    """What the gateway charges: a BYOK key's usage is paid to the provider by the team."""
    return ZERO if candidate.credential_type == "byok" else market_cost


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a request was served, for its gateway metadata."""

    generation_id: str
    original_model_id: str
    plan: Plan  # the candidates that were in the running
    served: Candidate
    attempts: tuple[Attempt, ...]
    cost: Decimal  # charged
    market_cost: Decimal


def gateway_metadata(outcome: Outcome) -> GatewayMetadata:
    plan, candidate = outcome.plan, outcome.served
    first, attempts = plan.candidates[0].offer, outcome.attempts
    skipped = tuple(a for a in attempts if a.skipped)
    return GatewayMetadata(
        generation_id=outcome.generation_id,
        cost=format_usd(outcome.cost),
        market_cost=format_usd(outcome.market_cost),
        routing=Routing(
            original_model_id=outcome.original_model_id,
            resolved_provider=first.provider,
            resolved_provider_api_model_id=first.provider_model_id,
            final_provider=candidate.offer.provider,
            attempts=tuple(a for a in attempts if not a.skipped) if skipped else attempts,
            skipped=skipped,
            fallbacks_available=tuple(dict.fromkeys(c.offer.provider for c in plan.candidates[1:]))
            if len(plan.candidates) > 1
            else (),
            canonical_slug=candidate.model.id,
            planning_reasoning=plan.reasoning,
        ),
    )


class Failover:
    """Resolving and planning (what a request may be routed to) and running the plan, with the
    process's catalog, credentials, adapters, provider health and metrics."""

    def __init__(
        self,
        catalog: Catalog,
        credentials: SystemCredentials,
        adapters: Adapters,
        *,
        stats: ProviderStats | None = None,
        metrics: RouterMetrics | None = None,
        byok: TeamCredentialStore | None = None,
    ) -> None:
        self.catalog = catalog
        self.adapters = adapters
        self._credentials = credentials
        self._stats = stats if stats is not None else ProviderStats()
        self._metrics = metrics
        self._byok = byok

    @property
    def credentials(self) -> SystemCredentials:
        return self._credentials

    @property
    def stats(self) -> ProviderStats:
        return self._stats

    @property
    def metrics(self) -> RouterMetrics | None:
        return self._metrics

    def model(self, name: str, param: str = "model") -> ModelInfo:
        model = self.catalog.resolve(name)
        if model is None:
            raise ModelNotFound(name, param)
        return model

    def models(self, name: str, options: RoutingOptions) -> list[ModelInfo]:
        """The requested model, then the fallback models of ``options``."""
        return [self.model(name)] + [self.model(other, "models") for other in options.models]

    async def plan(
        self, models: Sequence[ModelInfo], options: RoutingOptions, caller: Caller
    ) -> Plan:
        """The candidates for ``models``, the caller's team's BYOK credentials among them."""
        planning.check_only(models, options)
        planning.check_requirements(models, options)
        stored = (
            await self._byok.for_team(caller.team_id) if self._byok is not None else NO_CREDENTIALS
        )
        return planning.plan(models, options, self._credentials, self.adapters, self._stats, stored)

    async def run(
        self,
        plan: Plan,
        attempt: Callable[[Candidate], Awaitable[T]],
        *,
        attempts: list[Attempt],
        seconds: Callable[[Candidate], float | None] = _no_timeout,
        trace: GenerationSpan | None = None,
        operation: str = "chat",
    ) -> Served[T] | Unserved:
        """:func:`run_candidates` on ``plan``, heard by the process's health and metrics."""
        watch = Watch(self._stats, self._metrics, trace, operation)
        return await run_candidates(
            plan.candidates, attempt, attempts=attempts, seconds=seconds, watch=watch
        )


def no_provider(model: ModelInfo) -> NoProviderAvailable:
    return NoProviderAvailable(
        f"no provider is available for model {model.id!r}", metadata={"param": "model"}
    )
