"""The part of a generation after a provider has answered: relay its events, settle usage and
cost, publish the usage fact exactly once (also when the caller goes away mid-stream), durably
before the last event goes out."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from tollgate_common.ids import new_id

from tollgate_router.catalog.pricing import cost
from tollgate_router.credit.holds import NO_HOLD, Hold
from tollgate_router.domain import Attempt, GatewayMetadata, GenerationRequest
from tollgate_router.errors import ProviderFailed
from tollgate_router.events import (
    Failed,
    Finished,
    FinishReason,
    GenerationEvent,
    ImageDelta,
    ProviderEvent,
    RateLimitStatus,
    ReasoningDelta,
    ResponseStart,
    Started,
    TextDelta,
    ToolCallDelta,
    UsageReport,
    UsageReported,
)
from tollgate_router.generation.think_tags import Piece, ThinkSplitter
from tollgate_router.providers import ProviderError, ProviderStream
from tollgate_router.providers.content import new_call_id
from tollgate_router.routing import planning
from tollgate_router.routing.failover import Outcome, Served, answered, charged, gateway_metadata
from tollgate_router.routing.planning import Candidate, Plan
from tollgate_router.tracing import GenerationSpan
from tollgate_router.usage import UsageRecord, estimate, from_report

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Opened:
    """A provider's stream that answered, and the first event it sent."""

    stream: ProviderStream
    events: AsyncGenerator[ProviderEvent, None]
    first: ProviderEvent


@dataclass(slots=True)
class Generation:
    """One generation in flight: what the request was and what has been seen so far."""

    request: GenerationRequest
    plan: Plan
    attempts: list[Attempt]
    t0: float  # monotonic start
    created: datetime
    price_version: str
    generation_id: str = field(default_factory=lambda: new_id("gen"))
    finish_reason: str = ""
    report: UsageReport | None = None
    first_content: float | None = None
    output_chars: int = 0
    completed: bool = False
    failure: ProviderError | None = None
    trace: GenerationSpan | None = None
    tool_calls: set[int] = field(default_factory=set)  # indices of the calls seen
    images: int = 0  # generated images relayed
    hold: Hold = NO_HOLD  # what billing holds for it (pre-flight)


async def close_stream(
    stream: ProviderStream | None, events: AsyncGenerator[ProviderEvent, None] | None
) -> None:
    if events is not None:
        await events.aclose()
    if stream is not None:
        await stream.aclose()


class Settle(Protocol):
    """The end of a generation, given once: publish its usage fact, end its trace, count it.
    ``durable``: someone waits for the last event, which goes out only once the fact is
    durable; otherwise (the caller went away) the fact is queued without waiting."""

    async def __call__(
        self, generation: Generation, record: UsageRecord, *, durable: bool
    ) -> None: ...


async def relay(
    generation: Generation,
    served: Served[Opened],
    settle: Settle,
    rate_limit: RateLimitStatus | None = None,
) -> AsyncGenerator[GenerationEvent, None]:
    """``Started`` (with ``rate_limit``, the request's admission), the deltas, then
    ``UsageReported`` + ``Finished`` (or ``Failed``), back to back.

    ``settle`` gets the generation's usage record exactly once: at the end, before the last
    events (the usage fact is durable before they go out), or when the caller goes away
    mid-stream (it publishes the fact, ends the trace, counts the metrics)."""
    candidate, opened, g = served.candidate, served.result, generation
    first = opened.first
    pending: list[ProviderEvent] = []
    response_id = fingerprint = ""
    if isinstance(first, ResponseStart):
        response_id, fingerprint = first.response_id, first.system_fingerprint
    else:
        pending.append(first)
    published = False
    try:
        yield Started(
            generation_id=g.generation_id,
            model=candidate.model.id,
            provider=candidate.offer.provider,
            created=g.created,
            provider_model_id=candidate.offer.provider_model_id,
            system_fingerprint=fingerprint,
            rate_limit=rate_limit,
        )
        try:
            source = _chain(pending, opened.events) if pending else opened.events
            think = ThinkSplitter()
            async for event in source:  # the deltas go on as the adapter made them
                if isinstance(event, TextDelta):
                    if think.settled:  # no <think> at the start: the common case
                        if event.text:
                            _seen(g, len(event.text))
                            yield event
                    else:
                        for piece in _pieces(g, think.feed(event.text)):
                            yield piece
                elif isinstance(event, ToolCallDelta):
                    _seen(g, len(event.name) + len(event.arguments))
                    if event.index not in g.tool_calls:  # a new call: clients need its id
                        g.tool_calls.add(event.index)
                        if not event.id:
                            event = replace(event, id=new_call_id())
                    yield event
                elif isinstance(event, ReasoningDelta):
                    _seen(g, len(event.text))
                    yield event
                elif isinstance(event, ImageDelta):
                    _seen(g, 0)
                    g.images += 1
                    yield event
                elif isinstance(event, FinishReason):
                    g.finish_reason = event.reason
                elif isinstance(event, UsageReport):
                    g.report = event
            for piece in _pieces(g, think.flush()):
                yield piece
            if g.tool_calls and g.finish_reason in ("", "stop"):
                g.finish_reason = "tool_calls"  # some providers say stop after calling tools
            g.completed = True
        except ProviderError as exc:
            g.failure = exc
        finally:
            await close_stream(opened.stream, opened.events)
        record = usage_record(g, candidate)
        g.attempts.append(answered(served, response_id, g.failure))
        published = True  # before the await: a caller gone while it waits is settled already
        await settle(g, record, durable=True)
        if g.failure is not None:
            yield _failed(g.failure)
            return
        yield UsageReported(record.usage)
        yield Finished(record.finish_reason, _gateway(g, candidate, record))
    finally:
        if not published:  # the caller went away mid-stream
            await settle(g, usage_record(g, candidate), durable=False)
            await close_stream(opened.stream, opened.events)


def _seen(g: Generation, chars: int) -> None:
    """Output arrived: the first one sets the time to first token."""
    if g.first_content is None:
        g.first_content = time.monotonic()
    g.output_chars += chars


def _pieces(g: Generation, pieces: list[Piece]) -> list[TextDelta | ReasoningDelta]:
    events: list[TextDelta | ReasoningDelta] = []
    for kind, text in pieces:
        _seen(g, len(text))
        events.append(TextDelta(text) if kind == "text" else ReasoningDelta(text))
    return events


def usage_record(g: Generation, candidate: Candidate) -> UsageRecord:
    now = time.monotonic()
    pricing = candidate.offer.pricing
    if g.report is not None:
        per_image = pricing is not None and pricing.image is not None
        tokens = from_report(g.report, g.images, per_image)
    else:
        tokens = replace(estimate(g.request.messages, g.output_chars), images=g.images)
        log.warning("no usage from %s for %s; estimated", candidate.offer.provider, g.generation_id)
    market_cost = cost(pricing, tokens)
    ok = g.completed and g.failure is None
    return UsageRecord(
        generation_id=g.generation_id,
        caller=g.request.caller,
        model=candidate.model.id,
        provider=candidate.offer.provider,
        provider_model_id=candidate.offer.provider_model_id,
        credential_type=candidate.credential_type,
        usage=tokens,
        cost=charged(candidate, market_cost),
        market_cost=market_cost,
        price_version=g.price_version,
        ttft_ms=round(((g.first_content or now) - g.t0) * 1000),
        latency_ms=round((now - g.t0) * 1000),
        streamed=g.request.stream,
        finish_reason=(g.finish_reason or "stop") if ok else g.finish_reason,
        status="success" if ok else "error",
        created_at=g.created,
        attempts=sum(1 for a in g.attempts if not a.skipped) + 1,  # + the one relayed
        hold_id=g.hold.hold_id,
    )


def _gateway(g: Generation, candidate: Candidate, record: UsageRecord) -> GatewayMetadata:
    return gateway_metadata(
        Outcome(
            generation_id=g.generation_id,
            original_model_id=g.request.model,
            plan=g.plan,
            served=candidate,
            attempts=tuple(g.attempts),
            cost=record.cost,
            market_cost=record.market_cost,
        )
    )


def _failed(error: ProviderError) -> Failed:
    return Failed(
        reason=ProviderFailed.reason,
        message=f"the provider failed mid-stream: {planning.describe(error)}",
        provider_status=error.status,
        code=error.code,
    )


async def _chain(
    pending: list[ProviderEvent], events: AsyncGenerator[ProviderEvent, None]
) -> AsyncGenerator[ProviderEvent, None]:
    for event in pending:
        yield event
    async for event in events:
        yield event
