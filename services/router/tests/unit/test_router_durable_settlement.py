"""A generation's last events wait for its usage fact to be durable, and a non-streaming
generation whose caller goes away still settles with the provider's usage (a scripted adapter,
a fact sink that holds ``deliver`` until told)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from tollgate.events.v1 import usage_pb2
from tollgate_common.outbox import Fact
from tollgate_router.catalog.catalog import build_catalog
from tollgate_router.domain import GenerationRequest, Message
from tollgate_router.events import (
    FinishReason,
    GenerationEvent,
    ProviderEvent,
    Started,
    TextDelta,
    UsageReport,
    UsageReported,
)
from tollgate_router.generation.service import GenerationService
from tollgate_router.providers import Adapters, UpstreamCall

from .support import failover

CATALOG = build_catalog(
    {
        "version": "durable-unit",
        "models": [
            {
                "id": "acme/m",
                "providers": [
                    {"provider": "openai", "pricing": {"input": "0.000001", "output": "0.000002"}}
                ],
            }
        ],
    }
)
ANSWER: list[ProviderEvent] = [TextDelta("Hello"), FinishReason("stop"), UsageReport(3, 4, 7)]


class Slow:
    """An adapter whose answer comes once ``answer`` is set."""

    def __init__(self) -> None:
        self.called = asyncio.Event()
        self.answer = asyncio.Event()

    async def open(self, call: UpstreamCall) -> Slow:
        self.called.set()
        await self.answer.wait()
        return self

    async def events(self) -> AsyncGenerator[ProviderEvent, None]:
        for event in ANSWER:
            yield event

    async def aclose(self) -> None:
        return None


class HeldFacts:
    """A fact sink whose ``deliver`` returns once ``durable`` is set."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []
        self.durable = asyncio.Event()
        self.arrived = asyncio.Event()

    def put(self, fact: Fact) -> None:
        self.facts.append(fact)
        self.arrived.set()

    async def deliver(self, fact: Fact) -> bool:
        self.put(fact)
        await self.durable.wait()
        return True


def _service(adapter: Slow, facts: HeldFacts) -> GenerationService:
    adapters = Adapters(openai_chat=adapter)
    return GenerationService(failover(CATALOG, adapters, {"OPENAI_API_KEY": "k"}), facts)


async def test_the_usage_event_waits_for_the_fact_to_be_durable() -> None:
    adapter, facts = Slow(), HeldFacts()
    adapter.answer.set()
    request = GenerationRequest("acme/m", (Message("user", "hi"),), stream=True)
    seen: list[GenerationEvent] = []

    async def read() -> None:
        async for event in _service(adapter, facts).generate(request):
            seen.append(event)

    reading = asyncio.create_task(read())
    await facts.arrived.wait()
    for _ in range(20):  # room for a premature event to slip out (nothing here does I/O)
        await asyncio.sleep(0)
    assert [type(e) for e in seen] == [Started, TextDelta]  # the fact is not durable yet
    facts.durable.set()
    await reading
    assert isinstance(seen[2], UsageReported)


async def test_a_non_streaming_generation_settles_after_its_caller_left() -> None:
    adapter, facts = Slow(), HeldFacts()
    facts.durable.set()
    service = _service(adapter, facts)
    request = GenerationRequest("acme/m", (Message("user", "hi"),), stream=False)

    caller = asyncio.create_task(service.complete(request))
    await adapter.called.wait()
    caller.cancel()  # the client went away while the provider works
    adapter.answer.set()
    await service.finish(grace=5)

    [fact] = facts.facts
    usage = usage_pb2.UsageRecorded.FromString(fact.payload)
    assert (usage.input_tokens, usage.output_tokens) == (3, 4)  # the provider's own counts
    assert usage.status == "success"
