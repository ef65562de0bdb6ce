"""Generation orchestration: resolve the model, route, call a provider (falling back to the next
one only before the first byte), then hand over to the relay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tollgate_common.errors import DomainError, InvalidArgument

from tollgate_router import modalities, routing, tracing
from tollgate_router.byok_store import NO_CREDENTIALS, TeamCredentialStore
from tollgate_router.catalog import Catalog, ModelInfo
from tollgate_router.credentials import SystemCredentials
from tollgate_router.domain import Attempt, GenerationRequest
from tollgate_router.errors import (
    ModelNotFound,
    NoProviderAvailable,
    UnsupportedModel,
)
from tollgate_router.events import GenerationEvent, ProviderEvent
from tollgate_router.metrics import RouterMetrics
from tollgate_router.preflight import NoPreflight, Preflight
from tollgate_router.provider_stats import ProviderStats
from tollgate_router.providers import (
    Adapters,
    ProviderError,
    ProviderStream,
    UpstreamCall,
)
from tollgate_router.providers.provider_options import body_fields
from tollgate_router.relay import FactSink, Generation, Opened, close_stream, relay
from tollgate_router.routing import Candidate
from tollgate_router.usage import UsageRecord, usage_fact

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for a provider's first event before trying the next one; per provider
    slug, else the default. Streaming only: a non-streaming answer arrives whole, so its
    first byte is its last (the upstream read timeout bounds it)."""

    first_byte: float = 60.0
    first_byte_by_provider: Mapping[str, float] = field(default_factory=dict)

    def first_byte_for(self, provider: str) -> float:
        return self.first_byte_by_provider.get(provider, self.first_byte)


class GenerationService:
    def __init__(
        self,
        catalog: Catalog,
        credentials: SystemCredentials,
        adapters: Adapters,
        facts: FactSink,
        *,
        stats: ProviderStats | None = None,
        timeouts: Timeouts | None = None,
        metrics: RouterMetrics | None = None,
        preflight: Preflight | None = None,
        byok: TeamCredentialStore | None = None,
    ) -> None:
        self._byok = byok
        self._preflight = preflight if preflight is not None else NoPreflight()
        self._catalog = catalog
        self._credentials = credentials
        self._adapters = adapters
        self._facts = facts
        self._stats = stats if stats is not None else ProviderStats()
        self._timeouts = timeouts if timeouts is not None else Timeouts()
        self._metrics = metrics

    # -- catalog ----------------------------------------------------------------------------

    def list_models(self) -> Sequence[ModelInfo]:
        return self._catalog.models

    def get_model(self, name: str, param: str = "model") -> ModelInfo:
        model = self._catalog.resolve(name)
        if model is None:
            raise ModelNotFound(name, param)
        return model

    # -- generation -------------------------------------------------------------------------

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationEvent, None]:
        """Events of one generation; failures before ``Started`` raise a DomainError."""
        t0, created = time.monotonic(), datetime.now(UTC)
        models = [self.get_model(request.model)]
        models += [self.get_model(name, "models") for name in request.routing.models]
        if models[0].type != "language":
            raise UnsupportedModel(models[0].id, models[0].type)
        if not request.messages:
            raise InvalidArgument("'messages' must not be empty", metadata={"param": "messages"})
        models = modalities.check(models, request)  # fallback models that cannot are dropped
        routing.check_only(models, request.routing)
        stored = (
            await self._byok.for_team(request.caller.team_id)
            if self._byok is not None
            else NO_CREDENTIALS
        )
        plan = routing.plan(
            models, request.routing, self._credentials, self._adapters, self._stats, stored
        )
        if not plan.candidates:
            raise NoProviderAvailable(
                f"no provider is available for model {models[0].id!r}", metadata={"param": "model"}
            )
        generation = Generation(
            request,
            plan,
            list(plan.skipped),
            t0,
            created,
            self._catalog.version,
            trace=tracing.start_generation(request),
        )
        hold = await self._preflight.reserve(generation)  # 402 before any provider is called
        generation.hold = hold
        try:
            opened = await self._open(generation)
        except DomainError as exc:
            await hold.release()
            if generation.trace is not None:
                generation.trace.fail(exc.reason, str(exc))
            raise
        except BaseException:
            await hold.release()
            raise
        async with contextlib.aclosing(relay(generation, opened, self._settle)) as events:
            async for event in events:
                yield event

    def _settle(self, generation: Generation, record: UsageRecord) -> None:
        """The end of a relayed generation (once): publish its usage fact, with the trace
        context, end its trace, count it."""
        g = generation
        self._facts.put(usage_fact(record, g.trace.carrier() if g.trace else ()))
        g.hold.settle(record.cost)
        if g.failure is not None:  # mid-stream: the provider's fault, not the caller's
            provider = g.attempts[-1].provider if g.attempts else record.provider
            self._stats.record_failure(provider, record.provider_model_id)
            if self._metrics is not None:
                self._metrics.upstream_error(provider, g.failure.status)
        if g.trace is not None:
            g.trace.finish(record, "" if g.failure is None else routing.describe(g.failure))
        if self._metrics is not None:
            self._metrics.generation(record)

    async def _open(self, generation: Generation) -> Opened:
        """The first candidate that answers; the next one after a failure worth a retry."""
        error = ProviderError(0, "no provider attempted")
        for candidate in generation.plan.candidates:
            start = datetime.now(UTC)
            stream: ProviderStream | None = None
            events: AsyncGenerator[ProviderEvent, None] | None = None
            provider, provider_model = candidate.offer.provider, candidate.offer.provider_model_id
            span = (
                generation.trace.attempt(provider, provider_model, candidate.model.id)
                if generation.trace is not None
                else None
            )
            began = time.monotonic()
            try:
                async with asyncio.timeout(self._first_byte_timeout(generation, candidate)):
                    stream = await candidate.adapter.open(self._call(generation, candidate))
                    events = stream.events()
                    first = await anext(events)
                self._stats.record_success(provider, provider_model, time.monotonic() - began)
                if span is not None:
                    span.succeeded()
                return Opened(candidate, stream, events, first, start)
            except (ProviderError, StopAsyncIteration, TimeoutError) as exc:
                await close_stream(stream, events)
                error = routing.as_provider_error(exc)
            except BaseException:
                await close_stream(stream, events)
                if span is not None:
                    span.failed(0, "cancelled", "the caller went away")
                raise
            if span is not None:
                span.failed(error.status, error.type, routing.describe(error))
            retry = routing.falls_back(error)
            if retry:  # the caller's own mistakes say nothing about the provider's health
                self._stats.record_failure(provider, provider_model)
                if self._metrics is not None:
                    self._metrics.upstream_error(provider, error.status)
            (log.warning if retry else log.debug)(
                "provider %s failed for %s: %s",
                candidate.offer.provider,
                candidate.model.id,
                routing.describe(error),
            )
            generation.attempts.append(
                Attempt(
                    provider=candidate.offer.provider,
                    provider_model_id=candidate.offer.provider_model_id,
                    success=False,
                    start_time=start,
                    end_time=datetime.now(UTC),
                    status_code=error.status,
                    error_message=routing.describe(error),
                    credential_type=candidate.credential_type,
                    model_id=candidate.model.id,
                )
            )
            if not retry:
                break
        raise routing.final_error(error)

    def _first_byte_timeout(self, generation: Generation, candidate: Candidate) -> float | None:
        if not generation.request.stream:
            return None
        return self._timeouts.first_byte_for(candidate.offer.provider)

    @staticmethod
    def _call(generation: Generation, candidate: Candidate) -> UpstreamCall:
        request = generation.request
        timeout = None
        if request.timeout is not None:  # what is left of the caller's deadline
            timeout = max(request.timeout - (time.monotonic() - generation.t0), 0.001)
        return UpstreamCall(
            base_url=candidate.credential.base_url,
            api_key=candidate.credential.api_key,
            provider_model_id=candidate.offer.provider_model_id,
            messages=request.messages,
            params=request.params,
            stream=request.stream,
            timeout=timeout,
            max_output_tokens=candidate.model.max_output_tokens,
            provider_headers=request.provider_headers,
            provider_options=body_fields(
                candidate.offer.provider,
                candidate.offer.wire_protocol,
                request.provider_options.get(candidate.offer.provider, {}),
            ),
        )
