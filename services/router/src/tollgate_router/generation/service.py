"""Generation orchestration: resolve the model, route, hold the worst case at billing, open the
first candidate that answers (:mod:`tollgate_router.routing.failover`: the next one only before the first
byte), then hand over to the relay."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tollgate_common.errors import DomainError, InvalidArgument

from tollgate_router import tracing
from tollgate_router.catalog.catalog import ModelInfo
from tollgate_router.credit.limits import NoRateLimits, Permit, RateLimits, generation_tokens
from tollgate_router.credit.preflight import NoPreflight, Preflight
from tollgate_router.domain import GenerationRequest
from tollgate_router.errors import UnsupportedModel
from tollgate_router.events import GenerationEvent, ProviderEvent
from tollgate_router.generation import modalities
from tollgate_router.generation.relay import Generation, Opened, close_stream, relay
from tollgate_router.providers import ProviderStream, UpstreamCall
from tollgate_router.providers.provider_options import body_fields
from tollgate_router.routing import planning
from tollgate_router.routing.failover import Failover, Unserved, no_provider, time_left
from tollgate_router.routing.planning import Candidate
from tollgate_router.settlement import FactSink, settled
from tollgate_router.usage import UsageRecord

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
    """Chat generations: routed and tried by ``failover`` (the process's one engine, shared with
    embeddings), held at billing by ``preflight``, their usage facts put to ``facts``."""

    def __init__(
        self,
        failover: Failover,
        facts: FactSink,
        *,
        timeouts: Timeouts | None = None,
        preflight: Preflight | None = None,
        limits: RateLimits | None = None,
    ) -> None:
        self._failover = failover
        self._preflight = preflight if preflight is not None else NoPreflight()
        self._limits = limits if limits is not None else NoRateLimits()
        self._facts = facts
        self._timeouts = timeouts if timeouts is not None else Timeouts()
        # Non-streaming generations whose caller went away, still reading the provider's answer.
        self._unattended: set[asyncio.Task[list[GenerationEvent]]] = set()

    # -- catalog ----------------------------------------------------------------------------

    def list_models(self) -> Sequence[ModelInfo]:
        return self._failover.catalog.models

    def get_model(self, name: str, param: str = "model") -> ModelInfo:
        return self._failover.model(name, param)

    # -- generation -------------------------------------------------------------------------

    async def complete(self, request: GenerationRequest) -> list[GenerationEvent]:
        """Every event of a non-streaming generation, run to its end even if the caller goes
        away: once the provider call started it is paid for, so the answer is read in the
        background (within the call's own bound: the caller's deadline, the provider's read
        timeout) and settled as if it had been delivered; a failure, the bound included, is
        settled with what is known by then."""
        task = asyncio.create_task(self._whole(request), name="generation-unattended")
        self._unattended.add(task)
        task.add_done_callback(self._done_unattended)
        return await asyncio.shield(task)

    async def _whole(self, request: GenerationRequest) -> list[GenerationEvent]:
        async with contextlib.aclosing(self.generate(request)) as events:
            return [event async for event in events]

    def _done_unattended(self, task: asyncio.Task[list[GenerationEvent]]) -> None:
        self._unattended.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a caller that went away does not want it

    async def finish(self, grace: float) -> None:
        """Wait (at most ``grace`` seconds) for the non-streaming generations whose caller
        went away, so their facts reach the outbox before it is flushed at shutdown."""
        if not self._unattended:
            return
        log.info("finishing %d generations whose callers went away", len(self._unattended))
        _, late = await asyncio.wait(set(self._unattended), timeout=grace)
        for task in late:
            task.cancel()  # the relay settles it with what is known
        if late:
            await asyncio.wait(late)

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationEvent, None]:
        """Events of one generation; failures before ``Started`` raise a DomainError."""
        t0, created = time.monotonic(), datetime.now(UTC)
        models = self._failover.models(request.model, request.routing)
        if models[0].type != "language":
            raise UnsupportedModel(models[0].id, models[0].type)
        if not request.messages:
            raise InvalidArgument("'messages' must not be empty", metadata={"param": "messages"})
        models = modalities.check(models, request)  # fallback models that cannot are dropped
        plan = await self._failover.plan(models, request.routing, request.caller)
        if not plan.candidates:
            raise no_provider(models[0])
        generation = Generation(
            request,
            plan,
            list(plan.skipped),
            t0,
            created,
            self._failover.catalog.version,
            trace=tracing.start_generation(request),
        )
        # Both refuse before any provider is called: rate limits first, then the money.
        permit = await self._limits.admit(
            request.caller, functools.partial(generation_tokens, request, plan)
        )
        try:
            hold = await self._preflight.reserve(generation)
        except BaseException:
            permit.finish(0)
            raise
        generation.hold = hold
        try:
            run = await self._failover.run(
                generation.plan,
                lambda candidate: self._open(generation, candidate),
                attempts=generation.attempts,
                seconds=lambda candidate: self._first_byte_timeout(generation, candidate),
                trace=generation.trace,
            )
            if isinstance(run, Unserved):
                raise planning.final_error(run.error, planning.last_provider(generation.attempts))
        except DomainError as exc:
            permit.finish(0)
            await hold.release()
            if generation.trace is not None:
                generation.trace.fail(exc.reason, str(exc))
            raise
        except BaseException:
            permit.finish(0)
            await hold.release()
            raise
        settle = functools.partial(self._settle, permit=permit)
        async with contextlib.aclosing(relay(generation, run, settle, permit.status)) as events:
            async for event in events:
                yield event

    async def _settle(
        self, generation: Generation, record: UsageRecord, *, durable: bool, permit: Permit
    ) -> None:
        """The end of a relayed generation (once): publish its usage fact, with the trace
        context (``durable``: return once it is durable), end its trace, count it (in its
        rate limits too, at the tokens it used)."""
        g, metrics = generation, self._failover.metrics
        permit.finish(record.usage.input_tokens + record.usage.output_tokens)
        headers = g.trace.carrier() if g.trace else ()
        self._failover.stats.record_generation(record)
        if g.failure is not None:  # mid-stream: the provider's fault, not the caller's
            provider = g.attempts[-1].provider if g.attempts else record.provider
            self._failover.stats.record_failure(provider, record.provider_model_id)
            if metrics is not None:
                metrics.upstream_error(provider, g.failure.status)
        if g.trace is not None:
            g.trace.finish(record, "" if g.failure is None else planning.describe(g.failure))
        fact = settled(record, g.hold, headers, metrics)
        if durable:
            await self._facts.deliver(fact)  # the last events go out once it is durable
        else:
            self._facts.put(fact)

    async def _open(self, generation: Generation, candidate: Candidate) -> Opened:
        """Open ``candidate``'s stream and wait for its first event."""
        stream: ProviderStream | None = None
        events: AsyncGenerator[ProviderEvent, None] | None = None
        try:
            stream = await candidate.adapter.open(self._call(generation, candidate))
            events = stream.events()
            return Opened(stream, events, await anext(events))
        except BaseException:
            await close_stream(stream, events)
            raise

    def _first_byte_timeout(self, generation: Generation, candidate: Candidate) -> float | None:
        if not generation.request.stream:
            return None
        return self._timeouts.first_byte_for(candidate.offer.provider)

    @staticmethod
    def _call(generation: Generation, candidate: Candidate) -> UpstreamCall:
        request = generation.request
        return UpstreamCall(
            base_url=candidate.credential.base_url,
            api_key=candidate.credential.api_key,
            provider_model_id=candidate.offer.provider_model_id,
            messages=request.messages,
            params=request.params,
            stream=request.stream,
            timeout=time_left(request.timeout, generation.t0),
            max_output_tokens=candidate.model.max_output_tokens,
            provider_headers=request.provider_headers,
            provider_options=body_fields(
                candidate.offer.provider,
                candidate.offer.wire_protocol,
                request.provider_options.get(candidate.offer.provider, {}),
            ),
        )
