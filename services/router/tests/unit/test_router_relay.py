"""The generation service's relay with a scripted adapter: the adapter's deltas reach the caller
as the same objects (one event per chunk, nothing copied once the answer's start was checked
for a ``<think>`` tag), a tool call without an id gets one,
``<think>`` text is still split off, and a provider failing mid-answer ends the stream with a
reason and the provider's own status (no HTTP status or error type of the router's)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from tollgate_router.catalog.catalog import build_catalog
from tollgate_router.domain import GenerationRequest, Message
from tollgate_router.events import (
    Failed,
    Finished,
    FinishReason,
    GenerationEvent,
    ImageDelta,
    ProviderEvent,
    ReasoningDelta,
    ResponseStart,
    Started,
    TextDelta,
    ToolCallDelta,
    UsageReport,
    UsageReported,
)
from tollgate_router.generation.service import GenerationService
from tollgate_router.providers import Adapters, ProviderError, UpstreamCall

from .support import Facts, failover

CATALOG = build_catalog(
    {
        "version": "relay-unit",
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


class Scripted:
    """An adapter whose one stream yields ``script`` (a ProviderError in it is raised)."""

    def __init__(self, script: list[ProviderEvent | ProviderError]) -> None:
        self.script = script

    async def open(self, call: UpstreamCall) -> Scripted:
        return self

    async def events(self) -> AsyncGenerator[ProviderEvent, None]:
        for item in self.script:
            if isinstance(item, ProviderError):
                raise item
            yield item

    async def aclose(self) -> None:
        return None


async def _generate(script: list[Any]) -> list[GenerationEvent]:
    adapters = Adapters(openai_chat=Scripted(script))
    service = GenerationService(failover(CATALOG, adapters, {"OPENAI_API_KEY": "k"}), Facts())
    request = GenerationRequest("acme/m", (Message("user", "hi"),), stream=True)
    return [event async for event in service.generate(request)]


async def test_the_adapters_deltas_are_relayed_as_the_same_objects() -> None:
    deltas = [
        TextDelta("Hello"),
        ReasoningDelta("hm", format="anthropic-claude-v1"),
        ToolCallDelta(0, "call_1", "f", "{}"),
        ImageDelta("data:image/png;base64,AAAA"),
        TextDelta(" world"),
    ]
    script = [ResponseStart("r1", "m", 0, "fp"), *deltas, FinishReason("stop")]

    events = await _generate([*script, UsageReport(3, 4, 7)])

    assert isinstance(events[0], Started) and events[0].system_fingerprint == "fp"
    assert events[1:6] == deltas
    # The first text was read for a <think> tag; from then on nothing is copied.
    assert all(got is sent for got, sent in zip(events[2:6], deltas[1:], strict=True))
    assert isinstance(events[6], UsageReported) and events[6].usage.output_tokens == 4
    assert isinstance(events[7], Finished) and events[7].finish_reason == "tool_calls"


async def test_a_tool_call_without_an_id_gets_one_on_its_first_delta() -> None:
    events = await _generate([ToolCallDelta(0, name="f"), ToolCallDelta(0, arguments="{}")])

    first, rest = events[1], events[2]
    assert isinstance(first, ToolCallDelta) and first.id.startswith("call_")
    assert rest == ToolCallDelta(0, arguments="{}")


async def test_think_tags_are_still_split_off_as_reasoning() -> None:
    events = await _generate([TextDelta("<think>hmm</think>"), TextDelta("Answer")])

    assert events[1:3] == [ReasoningDelta("hmm"), TextDelta("Answer")]


async def test_a_failure_mid_answer_carries_a_reason_and_the_providers_status() -> None:
    events = await _generate([TextDelta("Hel"), ProviderError(529, "overloaded", code="x")])

    failed = events[-1]
    assert failed == Failed(
        reason="PROVIDER_ERROR",
        message="the provider failed mid-stream: HTTP 529: overloaded",
        provider_status=529,
        code="x",
    )
