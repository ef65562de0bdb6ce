"""Failover on a slow first byte, reordering after failures, and `only` that matches nothing."""

from __future__ import annotations

import grpc
import pytest
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common.errors import error_details

from .support import RouterUnderTest, StartRouter


def request(
    model: str = "acme/echo-1", *, stream: bool = True, **kwargs: object
) -> pb.StreamGenerateRequest:
    return pb.StreamGenerateRequest(
        caller=pb.CallerContext(team_id="team_1", request_id="req-failover"),
        model=model,
        messages=[pb.ChatMessage(role="user", text="hello there router")],
        stream=stream,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
async def impatient(nats_url: str, start_router: StartRouter) -> RouterUnderTest:
    """A router that waits at most 0.3 s for openai's first streamed event."""
    return await start_router(nats_url, first_byte_timeouts={"openai": 0.3})


async def test_a_provider_slow_to_send_its_first_byte_is_abandoned_for_the_next(
    impatient: RouterUnderTest,
) -> None:
    impatient.openai.script(latency_ms=3000)

    responses = await impatient.generate(request())

    assert responses[0].started.provider == "groq"
    assert "".join(r.text_delta.text for r in responses) == "Echo: hello there router"
    routing = responses[-1].finished.provider_metadata.gateway.routing
    timed_out, served = routing.attempts
    assert (timed_out.provider, timed_out.success, timed_out.status_code) == ("openai", False, 0)
    assert "in time" in timed_out.error_message
    assert timed_out.model_id == "acme/echo-1"
    assert (served.provider, served.success) == ("groq", True)
    assert routing.planning_reasoning


async def test_after_a_failure_the_healthy_provider_is_tried_first(
    impatient: RouterUnderTest,
) -> None:
    impatient.openai.script(status=503)
    first = await impatient.generate(request())
    impatient.openai.reset()
    impatient.groq.reset()

    second = await impatient.generate(request())

    assert first[0].started.provider == "groq"  # after openai's 503
    assert second[0].started.provider == "groq"  # openai is now ranked behind groq
    routing = second[-1].finished.provider_metadata.gateway.routing
    assert routing.resolved_provider == "groq"
    assert list(routing.fallbacks_available) == ["openai"]
    assert not impatient.openai.requests  # nothing was sent to the failing provider


async def test_the_first_byte_timeout_does_not_cut_a_non_streaming_answer(
    impatient: RouterUnderTest,
) -> None:
    impatient.openai.script(latency_ms=600)

    responses = [r async for r in impatient.stub.StreamGenerate(request(stream=False), timeout=30)]

    events = [e for r in responses for e in (r.batch.events if r.HasField("batch") else [r])]
    assert events[0].started.provider == "openai"


async def test_only_naming_no_provider_of_the_model_is_a_400_listing_the_allowed_ones(
    impatient: RouterUnderTest,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        [
            r
            async for r in impatient.stub.StreamGenerate(
                request(routing=pb.RoutingOptions(only=["anthropic"])), timeout=30
            )
        ]

    details = error_details(raised.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "allowed providers: groq, openai" in details.message
    assert details.metadata["param"] == "providerOptions.gateway.only"
    assert not impatient.openai.requests and not impatient.groq.requests
