"""Embeddings: resolve the model (it must be an ``embedding`` model), route as a generation is
routed (``only``, ``order``, fallback models, providers without credentials skipped, the same
failover rules), call the first provider that answers, price the input tokens at the catalog's
list price and publish the usage fact under a ``gen_...`` id, as a non-streamed generation with
no output tokens (billing and activity record it like any other). Before any provider is
called, billing holds the worst case of the input tokens (the same pre-flight as chat: 402
``insufficient_funds`` or ``budget_exceeded``, nothing sent upstream). With tracing on, the ``Embed``
RPC's span carries the GenAI attributes and its context travels with the fact; there are no
per-attempt spans yet (``tracing.py`` names its spans after chat)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from opentelemetry import propagate, trace
from tollgate_common import telemetry
from tollgate_common.errors import InvalidArgument
from tollgate_common.ids import new_id
from tollgate_common.money import ZERO, format_usd

from tollgate_router import routing
from tollgate_router.byok_store import NO_CREDENTIALS, TeamCredentialStore
from tollgate_router.catalog import Catalog, ModelInfo
from tollgate_router.credentials import SystemCredentials
from tollgate_router.domain import Attempt, Caller, GatewayMetadata, Routing, RoutingOptions
from tollgate_router.errors import ModelNotFound, NoProviderAvailable, UnsupportedModel
from tollgate_router.holds import Hold
from tollgate_router.metrics import RouterMetrics
from tollgate_router.preflight import Ask, NoPreflight, Preflight, estimate_embedding_tokens
from tollgate_router.pricing import TokenUsage, cost
from tollgate_router.provider_stats import ProviderStats
from tollgate_router.providers import (
    Adapters,
    EmbeddingAdapter,
    EmbeddingCall,
    EmbeddingInput,
    EmbeddingResult,
    ProviderError,
)
from tollgate_router.relay import FactSink
from tollgate_router.routing import Candidate, Plan
from tollgate_router.usage import UsageRecord, usage_fact

log = logging.getLogger(__name__)

_NO_EMBEDDINGS = "skipped: this provider's API has no embeddings adapter"
_TEXT_ONLY = "skipped: this provider's API embeds text only, not token arrays"


class NotAnEmbeddingModel(InvalidArgument):
    reason = UnsupportedModel.reason

    def __init__(self, model: str, kind: str, param: str = "model") -> None:
        super().__init__(
            f"model {model!r} is a {kind} model and cannot create embeddings",
            metadata={"param": param},
        )


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    model: str
    inputs: tuple[EmbeddingInput, ...]
    dimensions: int | None = None
    user: str = ""
    routing: RoutingOptions = field(default_factory=RoutingOptions)
    caller: Caller = field(default_factory=Caller)
    timeout: float | None = None  # seconds left of the caller's deadline


@dataclass(frozen=True, slots=True)
class Embeddings:
    generation_id: str
    model: str  # the catalog model that served
    provider: str
    provider_model_id: str
    created: datetime
    vectors: tuple[tuple[float, ...], ...]
    usage: TokenUsage
    gateway: GatewayMetadata


@dataclass(frozen=True, slots=True)
class _Served:
    """One embeddings request in flight: its id, what billing holds for it, when it began."""

    generation_id: str
    hold: Hold
    reasoning: str  # the routing plan's
    t0: float  # monotonic start
    created: datetime


@dataclass(frozen=True, slots=True)
class _Route:
    candidate: Candidate
    adapter: EmbeddingAdapter


class EmbeddingService:
    def __init__(
        self,
        catalog: Catalog,
        credentials: SystemCredentials,
        adapters: Adapters,
        facts: FactSink,
        *,
        stats: ProviderStats | None = None,
        metrics: RouterMetrics | None = None,
        preflight: Preflight | None = None,
        byok: TeamCredentialStore | None = None,
    ) -> None:
        self._byok = byok
        self._catalog = catalog
        self._credentials = credentials
        self._adapters = adapters
        self._facts = facts
        self._stats = stats if stats is not None else ProviderStats()
        self._metrics = metrics
        self._preflight = preflight if preflight is not None else NoPreflight()

    def _model(self, name: str, param: str) -> ModelInfo:
        model = self._catalog.resolve(name)
        if model is None:
            raise ModelNotFound(name, param)
        return model

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        t0, created = time.monotonic(), datetime.now(UTC)
        models = [self._model(request.model, "model")]
        models += [self._model(name, "models") for name in request.routing.models]
        for index, model in enumerate(models):
            if model.type != "embedding":
                raise NotAnEmbeddingModel(model.id, model.type, "models" if index else "model")
        if not request.inputs:
            raise InvalidArgument("'input' must not be empty", metadata={"param": "input"})
        routing.check_only(models, request.routing)
        stored = (
            await self._byok.for_team(request.caller.team_id)
            if self._byok is not None
            else NO_CREDENTIALS
        )
        plan = routing.plan(
            models, request.routing, self._credentials, self._adapters, self._stats, stored
        )
        tokens = any(not isinstance(item, str) for item in request.inputs)
        routes, attempts = self._routes(plan, tokens)
        if not routes and any(a.error_message == _TEXT_ONLY for a in attempts):
            raise InvalidArgument(
                f"no provider of model {models[0].id!r} embeds token arrays: send the input "
                "as text",
                metadata={"param": "input"},
            )
        if not routes:
            raise NoProviderAvailable(
                f"no provider is available for model {models[0].id!r}", metadata={"param": "model"}
            )
        generation_id = new_id("gen")
        ask = Ask(
            request.caller,
            Plan(tuple(r.candidate for r in routes), plan.skipped),
            estimate_embedding_tokens(request.inputs),
            output=False,
        )
        admission = await self._preflight.admit(ask)  # 402 before any provider is called
        allowed = set(map(id, admission.plan.candidates))
        routes = [r for r in routes if id(r.candidate) in allowed]
        served = _Served(generation_id, admission.hold, plan.reasoning, t0, created)
        try:
            return await self._attempt_routes(request, served, routes, attempts)
        except BaseException:
            await admission.hold.release()
            raise

    async def _attempt_routes(
        self,
        request: EmbeddingRequest,
        served: _Served,
        routes: list[_Route],
        attempts: list[Attempt],
    ) -> Embeddings:
        """Try each route until a provider answers; the last error otherwise."""
        error = ProviderError(0, "no provider attempted")
        for route in routes:
            candidate = route.candidate
            provider, provider_model = candidate.offer.provider, candidate.offer.provider_model_id
            start, began = datetime.now(UTC), time.monotonic()
            try:
                async with asyncio.timeout(self._left(request, served.t0)):
                    result = await route.adapter.embed(self._call(request, candidate, served.t0))
            except (ProviderError, TimeoutError) as exc:
                error = routing.as_provider_error(exc)
            else:
                self._stats.record_success(provider, provider_model, time.monotonic() - began)
                attempts.append(_attempt(candidate, start, None, result.response_id))
                return self._settle(request, served, routes, candidate, result, attempts)
            retry = routing.falls_back(error)
            if retry:  # the caller's own mistakes say nothing about the provider's health
                self._stats.record_failure(provider, provider_model)
                if self._metrics is not None:
                    self._metrics.upstream_error(provider, error.status)
            (log.warning if retry else log.debug)(
                "provider %s failed embeddings for %s: %s",
                provider,
                candidate.model.id,
                routing.describe(error),
            )
            attempts.append(_attempt(candidate, start, error))
            if not retry:
                break
        raise routing.final_error(error)

    def _routes(self, plan: Plan, tokens: bool) -> tuple[list[_Route], list[Attempt]]:
        """The plan's candidates whose API has an embeddings adapter (that takes token arrays,
        when the request has some); the others skipped."""
        routes: list[_Route] = []
        skipped = list(plan.skipped)
        for candidate in plan.candidates:
            offer = candidate.offer
            adapter = self._adapters.embeddings_for(offer.provider, offer.wire_protocol)
            if adapter is None or (tokens and not adapter.takes_token_ids):
                skipped.append(
                    Attempt(
                        provider=offer.provider,
                        provider_model_id=offer.provider_model_id,
                        success=False,
                        error_message=_NO_EMBEDDINGS if adapter is None else _TEXT_ONLY,
                        skipped=True,
                        model_id=candidate.model.id,
                    )
                )
                continue
            routes.append(_Route(candidate, adapter))
        return routes, skipped

    @staticmethod
    def _left(request: EmbeddingRequest, t0: float) -> float | None:
        if request.timeout is None:
            return None
        return max(request.timeout - (time.monotonic() - t0), 0.001)

    def _call(self, request: EmbeddingRequest, candidate: Candidate, t0: float) -> EmbeddingCall:
        return EmbeddingCall(
            base_url=candidate.credential.base_url,
            api_key=candidate.credential.api_key,
            provider_model_id=candidate.offer.provider_model_id,
            inputs=request.inputs,
            dimensions=request.dimensions,
            user=request.user,
            timeout=self._left(request, t0),
        )

    def _settle(
        self,
        request: EmbeddingRequest,
        served: _Served,
        routes: list[_Route],
        candidate: Candidate,
        result: EmbeddingResult,
        attempts: list[Attempt],
    ) -> Embeddings:
        """Price the input tokens, publish the usage fact (naming the hold it drew from) and
        settle the hold, build the gateway metadata."""
        generation_id, reasoning = served.generation_id, served.reasoning
        t0, created = served.t0, served.created
        usage = TokenUsage(input_tokens=result.input_tokens)
        if result.estimated:
            log.info(
                "no token count from %s for %s; estimated", candidate.offer.provider, generation_id
            )
        market_cost = cost(candidate.offer.pricing, usage)
        # A BYOK key's usage is paid to the provider by the team: the gateway charges nothing.
        charged = ZERO if candidate.credential_type == "byok" else market_cost
        elapsed = round((time.monotonic() - t0) * 1000)
        record = UsageRecord(
            generation_id=generation_id,
            caller=request.caller,
            model=candidate.model.id,
            provider=candidate.offer.provider,
            provider_model_id=candidate.offer.provider_model_id,
            credential_type=candidate.credential_type,
            usage=usage,
            cost=charged,
            market_cost=market_cost,
            price_version=self._catalog.version,
            ttft_ms=elapsed,
            latency_ms=elapsed,
            streamed=False,
            finish_reason="stop",
            status="success",
            created_at=created,
            attempts=sum(1 for a in attempts if not a.skipped),
            hold_id=served.hold.hold_id,
        )
        self._facts.put(usage_fact(record, _traced(record)))
        served.hold.settle(record.cost)
        if self._metrics is not None:
            self._metrics.generation(record)
        first = routes[0].candidate.offer
        gateway = GatewayMetadata(
            generation_id=generation_id,
            cost=format_usd(record.cost),
            market_cost=format_usd(record.market_cost),
            routing=Routing(
                original_model_id=request.model,
                resolved_provider=first.provider,
                resolved_provider_api_model_id=first.provider_model_id,
                final_provider=candidate.offer.provider,
                attempts=tuple(attempts),
                fallbacks_available=tuple(
                    dict.fromkeys(r.candidate.offer.provider for r in routes[1:])
                ),
                canonical_slug=candidate.model.id,
                planning_reasoning=reasoning,
            ),
        )
        return Embeddings(
            generation_id=generation_id,
            model=candidate.model.id,
            provider=candidate.offer.provider,
            provider_model_id=candidate.offer.provider_model_id,
            created=created,
            vectors=result.vectors,
            usage=usage,
            gateway=gateway,
        )


def _traced(record: UsageRecord) -> tuple[tuple[str, str], ...]:
    """With tracing on: the ``Embed`` RPC's server span gets the GenAI attributes of the request
    and its context travels with the usage fact (billing and activity continue the trace)."""
    if not telemetry.tracing_enabled():
        return ()
    trace.get_current_span().set_attributes(
        {
            "gen_ai.operation.name": "embeddings",
            "gen_ai.request.model": record.model,
            "gen_ai.response.id": record.generation_id,
            "gen_ai.provider.name": record.provider,
            "gen_ai.usage.input_tokens": record.usage.input_tokens,
            "tollgate.generation.id": record.generation_id,
            "tollgate.credential_type": record.credential_type,
        }
    )
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return tuple(headers.items())


def _attempt(
    candidate: Candidate,
    start: datetime,
    error: ProviderError | None,
    response_id: str = "",
) -> Attempt:
    return Attempt(
        provider=candidate.offer.provider,
        provider_model_id=candidate.offer.provider_model_id,
        success=error is None,
        start_time=start,
        end_time=datetime.now(UTC),
        status_code=200 if error is None else error.status,
        provider_response_id=response_id,
        error_message="" if error is None else routing.describe(error),
        credential_type=candidate.credential_type,
        model_id=candidate.model.id,
    )
