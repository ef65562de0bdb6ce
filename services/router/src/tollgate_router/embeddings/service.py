"""Embeddings: resolve the model (it must be an ``embedding`` model), route as a generation is
routed (``only``, ``order``, fallback models, providers without credentials skipped, the same
failover rules), call the first provider that answers, price the input tokens at the catalog's
list price and publish the usage fact under a ``gen_...`` id, as a non-streamed generation with
no output tokens (billing and activity record it like any other). Before any provider is
called, billing holds the worst case of the input tokens (the same pre-flight as chat:
``INSUFFICIENT_FUNDS`` or ``BUDGET_EXCEEDED``, nothing sent upstream). The candidates are tried by
the failover engine (:mod:`tollgate_router.routing.failover`). With tracing on, the ``Embed`` RPC's span
carries the GenAI attributes and its context travels with the fact; there are no per-attempt
spans yet (``tracing.py`` names its spans after chat)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from opentelemetry import propagate, trace
from tollgate_common import telemetry
from tollgate_common.errors import InvalidArgument
from tollgate_common.ids import new_id

from tollgate_router.catalog.pricing import TokenUsage, cost
from tollgate_router.credit.estimates import estimate_embedding_tokens
from tollgate_router.credit.holds import Hold
from tollgate_router.credit.limits import NoRateLimits, RateLimits
from tollgate_router.credit.preflight import Ask, NoPreflight, Preflight
from tollgate_router.domain import Attempt, Caller, GatewayMetadata, RoutingOptions
from tollgate_router.errors import UnsupportedModel
from tollgate_router.events import RateLimitStatus
from tollgate_router.providers import (
    EmbeddingAdapter,
    EmbeddingCall,
    EmbeddingInput,
    EmbeddingResult,
)
from tollgate_router.routing import planning
from tollgate_router.routing.failover import (
    Failover,
    Outcome,
    Served,
    Unserved,
    answered,
    charged,
    gateway_metadata,
    no_provider,
    time_left,
)
from tollgate_router.routing.planning import Candidate, Plan
from tollgate_router.settlement import FactSink, settled
from tollgate_router.usage import UsageRecord

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
    rate_limit: RateLimitStatus | None = None  # None: no rate limit applies


@dataclass(frozen=True, slots=True)
class _Served:
    """One embeddings request that a provider answered: its id, what billing holds for it,
    when it began."""

    generation_id: str
    hold: Hold
    t0: float  # monotonic start
    created: datetime


class EmbeddingService:
    """Embeddings requests: routed and tried by ``failover`` (the process's one engine, shared
    with chat), held at billing by ``preflight``, their usage facts put to ``facts``."""

    def __init__(
        self,
        failover: Failover,
        facts: FactSink,
        *,
        preflight: Preflight | None = None,
        limits: RateLimits | None = None,
    ) -> None:
        self._failover = failover
        self._facts = facts
        self._preflight = preflight if preflight is not None else NoPreflight()
        self._limits = limits if limits is not None else NoRateLimits()

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        t0, created = time.monotonic(), datetime.now(UTC)
        models = self._failover.models(request.model, request.routing)
        for index, model in enumerate(models):
            if model.type != "embedding":
                raise NotAnEmbeddingModel(model.id, model.type, "models" if index else "model")
        if not request.inputs:
            raise InvalidArgument("'input' must not be empty", metadata={"param": "input"})
        planned = await self._failover.plan(models, request.routing, request.caller)
        tokens = any(not isinstance(item, str) for item in request.inputs)
        plan, embedders = self._embedders(planned, tokens)
        if not plan.candidates and any(a.error_message == _TEXT_ONLY for a in plan.skipped):
            raise InvalidArgument(
                f"no provider of model {models[0].id!r} embeds token arrays: send the input "
                "as text",
                metadata={"param": "input"},
            )
        if not plan.candidates:
            raise no_provider(models[0])
        ask = Ask(request.caller, plan, estimate_embedding_tokens(request.inputs), output=False)
        # Both refuse before any provider is called: rate limits first, then the money.
        permit = await self._limits.admit(request.caller, lambda: ask.input_tokens)
        try:
            embeddings = await self._admitted(request, ask, plan, embedders, t0, created)
        except BaseException:
            permit.finish(0)
            raise
        permit.finish(embeddings.usage.input_tokens)
        return replace(embeddings, rate_limit=permit.status)

    async def _admitted(
        self,
        request: EmbeddingRequest,
        ask: Ask,
        plan: Plan,
        embedders: dict[int, EmbeddingAdapter],
        t0: float,
        created: datetime,
    ) -> Embeddings:
        admission = await self._preflight.admit(ask)  # refused before any provider is called
        # Narrowed to the team's BYOK keys when it may not spend credits.
        plan = replace(admission.plan, reasoning=plan.reasoning)
        attempts = list(plan.skipped)
        try:
            run = await self._failover.run(
                plan,
                lambda candidate: embedders[id(candidate)].embed(
                    self._call(request, candidate, t0)
                ),
                attempts=attempts,
                seconds=lambda candidate: time_left(request.timeout, t0),
                operation="embeddings",
            )
            if isinstance(run, Unserved):
                raise planning.final_error(run.error, planning.last_provider(attempts))
        except BaseException:
            await admission.hold.release()
            raise
        attempts.append(answered(run, run.result.response_id))
        served = _Served(new_id("gen"), admission.hold, t0, created)
        return await self._settle(request, served, plan, run, tuple(attempts))

    def _embedders(self, plan: Plan, tokens: bool) -> tuple[Plan, dict[int, EmbeddingAdapter]]:
        """The plan narrowed to the candidates whose API has an embeddings adapter (that takes
        token arrays, when the request has some), the others skipped; each kept candidate's
        adapter by ``id``."""
        kept: list[Candidate] = []
        embedders: dict[int, EmbeddingAdapter] = {}
        skipped = list(plan.skipped)
        for candidate in plan.candidates:
            offer = candidate.offer
            adapter = self._failover.adapters.embeddings_for(offer.provider, offer.wire_protocol)
            if adapter is None or (tokens and not adapter.takes_token_ids):
                reason = _NO_EMBEDDINGS if adapter is None else _TEXT_ONLY
                skipped.append(planning.skipped_offer(candidate.model, offer, reason))
                continue
            kept.append(candidate)
            embedders[id(candidate)] = adapter
        return Plan(tuple(kept), tuple(skipped), plan.reasoning), embedders

    @staticmethod
    def _call(request: EmbeddingRequest, candidate: Candidate, t0: float) -> EmbeddingCall:
        return EmbeddingCall(
            base_url=candidate.credential.base_url,
            api_key=candidate.credential.api_key,
            provider_model_id=candidate.offer.provider_model_id,
            inputs=request.inputs,
            dimensions=request.dimensions,
            user=request.user,
            timeout=time_left(request.timeout, t0),
        )

    async def _settle(
        self,
        request: EmbeddingRequest,
        served: _Served,
        plan: Plan,
        run: Served[EmbeddingResult],
        attempts: tuple[Attempt, ...],
    ) -> Embeddings:
        """Price the input tokens, settle the hold, deliver the usage fact (naming the hold it
        drew from) and build the gateway metadata. The vectors go out only once the fact is
        durable, as a chat generation's last event does."""
        candidate, result = run.candidate, run.result
        generation_id = served.generation_id
        usage = TokenUsage(input_tokens=result.input_tokens)
        if result.estimated:
            log.info(
                "no token count from %s for %s; estimated", candidate.offer.provider, generation_id
            )
        market_cost = cost(candidate.offer.pricing, usage)
        elapsed = round((time.monotonic() - served.t0) * 1000)
        record = UsageRecord(
            generation_id=generation_id,
            caller=request.caller,
            model=candidate.model.id,
            provider=candidate.offer.provider,
            provider_model_id=candidate.offer.provider_model_id,
            credential_type=candidate.credential_type,
            usage=usage,
            cost=charged(candidate, market_cost),
            market_cost=market_cost,
            price_version=self._failover.catalog.version,
            ttft_ms=elapsed,
            latency_ms=elapsed,
            streamed=False,
            finish_reason="stop",
            status="success",
            created_at=served.created,
            attempts=sum(1 for a in attempts if not a.skipped),
            hold_id=served.hold.hold_id,
        )
        headers = _traced(record)
        await self._facts.deliver(settled(record, served.hold, headers, self._failover.metrics))
        outcome = Outcome(
            generation_id, request.model, plan, candidate, attempts, record.cost, market_cost
        )
        return Embeddings(
            generation_id=generation_id,
            model=candidate.model.id,
            provider=candidate.offer.provider,
            provider_model_id=candidate.offer.provider_model_id,
            created=served.created,
            vectors=result.vectors,
            usage=usage,
            gateway=gateway_metadata(outcome),
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
