"""StreamGenerate end to end: router gRPC server → fake OpenAI upstreams → JetStream."""

from __future__ import annotations

from decimal import Decimal

import grpc
import pytest
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common.errors import error_details

from .support import GROQ_KEY, OPENAI_KEY, RouterUnderTest


def request(
    model: str = "openai/gpt-4o-mini", *, stream: bool = True, **kwargs: object
) -> pb.StreamGenerateRequest:
    return pb.StreamGenerateRequest(
        caller=pb.CallerContext(
            team_id="team_1",
            project_id="prj_1",
            key_id="key_1",
            user_id="user_1",
            request_id="req-1",
            app_title="Router Tests",
            app_referer="https://tests.example",
        ),
        model=model,
        messages=[
            pb.ChatMessage(role="system", text="Be brief."),
            pb.ChatMessage(role="user", text="hello there router"),
        ],
        stream=stream,
        **kwargs,  # type: ignore[arg-type]
    )


def kinds(responses: list[pb.StreamGenerateResponse]) -> list[str]:
    return [str(r.WhichOneof("event")) for r in responses]


def text(responses: list[pb.StreamGenerateResponse]) -> str:
    return "".join(r.text_delta.text for r in responses)


async def failure(router: RouterUnderTest, req: pb.StreamGenerateRequest) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await router.generate(req)
    return raised.value


async def test_streaming_generation_relays_text_usage_and_cost(router: RouterUnderTest) -> None:
    router.openai.script(cached_tokens=2)

    responses = await router.generate(request())

    events = kinds(responses)
    assert events[0] == "started"
    assert set(events[1:-2]) == {"text_delta"}  # what arrived together may come as one delta
    assert events[-2:] == ["usage", "finished"]
    started = responses[0].started
    assert started.generation_id.startswith("gen_")
    assert (started.model, started.provider) == ("openai/gpt-4o-mini", "openai")
    assert started.provider_model_id == "gpt-4o-mini"
    assert started.system_fingerprint == "fp_fake0openai"
    assert started.created.seconds > 0
    assert text(responses) == "Echo: hello there router"
    usage = responses[-2].usage
    # prompt = words of all messages (2 + 3), completion = one token per chunk
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (5, 4, 9)
    assert usage.cached_input_tokens == 2
    finished = responses[-1].finished
    assert finished.finish_reason == "stop"
    gateway = finished.provider_metadata.gateway
    assert gateway.generation_id == started.generation_id
    # 3 uncached * 0.00000015 + 2 cached * 0.000000075 + 4 * 0.0000006
    assert gateway.cost == gateway.market_cost == "0.000003"
    routing = gateway.routing
    assert routing.original_model_id == "openai/gpt-4o-mini"
    assert routing.resolved_provider == routing.final_provider == "openai"
    assert routing.resolved_provider_api_model_id == "gpt-4o-mini"
    assert routing.canonical_slug == "openai/gpt-4o-mini"
    [attempt] = routing.attempts
    assert attempt.success and attempt.status_code == 200
    assert attempt.credential_type == "system"
    assert attempt.provider_response_id.startswith("chatcmpl-")
    assert attempt.end_time.ToDatetime() >= attempt.start_time.ToDatetime()

    [sent] = router.openai.requests
    assert sent["authorized"] is True  # the fake checks for Bearer OPENAI_KEY
    assert "authorization" not in {k.lower() for k in sent["headers"]}
    body = sent["body"]
    assert body["model"] == "gpt-4o-mini"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello there router"},
    ]


async def test_chunks_arriving_apart_are_relayed_apart(router: RouterUnderTest) -> None:
    router.openai.script(chunk_delay_ms=30)

    responses = await router.generate(request())

    deltas = [r.text_delta.text for r in responses if r.HasField("text_delta")]
    assert len(deltas) > 1  # streamed through, not buffered
    assert "".join(deltas) == "Echo: hello there router"


async def test_usage_fact_reaches_jetstream_keyed_by_generation_id(
    router: RouterUnderTest,
) -> None:
    router.openai.script(cached_tokens=2)

    responses = await router.generate(request())
    generation_id = responses[0].started.generation_id

    headers, fact = await router.usage_fact(generation_id)
    assert headers["Nats-Msg-Id"] == generation_id
    assert fact.generation_id == generation_id
    assert (fact.team_id, fact.project_id, fact.key_id, fact.user_id) == (
        "team_1",
        "prj_1",
        "key_1",
        "user_1",
    )
    assert fact.request_id == "req-1"
    assert (fact.model, fact.provider, fact.provider_model_id) == (
        "openai/gpt-4o-mini",
        "openai",
        "gpt-4o-mini",
    )
    assert fact.credential_type == "system"
    assert (fact.input_tokens, fact.output_tokens, fact.cached_input_tokens) == (5, 4, 2)
    assert Decimal(fact.cost) == Decimal(fact.market_cost) == Decimal("0.000003")
    assert fact.cost == "0.000003"
    assert fact.price_version == "2026-11-25+router-tests"
    assert 0 <= fact.ttft_ms <= fact.latency_ms
    assert fact.streamed is True
    assert (fact.finish_reason, fact.status) == ("stop", "success")
    assert fact.created_at.seconds == responses[0].started.created.seconds
    assert (fact.app_title, fact.app_referer) == ("Router Tests", "https://tests.example")
    assert fact.attempts == 1
    assert (fact.end_user, list(fact.tags)) == ("", [])


async def test_the_end_user_and_tags_travel_on_the_usage_fact(router: RouterUnderTest) -> None:
    routing = pb.RoutingOptions(user="alice", tags=["beta", "search"])
    responses = await router.generate(request(routing=routing))
    _, fact = await router.usage_fact(responses[0].started.generation_id)
    assert (fact.end_user, list(fact.tags)) == ("alice", ["beta", "search"])


async def test_a_stream_ends_with_its_usage_and_finish_in_one_message(
    router: RouterUnderTest,
) -> None:
    messages = await router.messages(request())

    assert kinds(messages[:2]) == ["started", "text_delta"]
    assert kinds(list(messages[-1].batch.events)) == ["usage", "finished"]
    assert "batch" not in kinds(messages[:-1])


async def test_non_streaming_generation_gives_the_same_events_in_one_message(
    router: RouterUnderTest,
) -> None:
    [message] = await router.generate(
        request("gpt-4o-mini", stream=False, params=pb.GenerationParams(temperature=0.5))
    )
    assert kinds([message]) == ["batch"]
    responses = list(message.batch.events)

    assert kinds(responses) == ["started", "text_delta", "usage", "finished"]
    assert responses[1].text_delta.text == "Echo: hello there router"
    assert responses[2].usage.output_tokens == 4
    assert responses[3].finished.provider_metadata.gateway.cost == "0.00000315"
    [sent] = router.openai.requests
    assert sent["body"]["stream"] is False
    assert "stream_options" not in sent["body"]
    assert sent["body"]["temperature"] == 0.5
    _, fact = await router.usage_fact(responses[0].started.generation_id)
    assert fact.streamed is False


async def test_a_whole_answer_asked_for_on_the_stream_is_the_same_one_message(
    router: RouterUnderTest,
) -> None:
    """An edge of an earlier release asks StreamGenerate for non-streaming answers."""
    whole = request("gpt-4o-mini", stream=False)
    [unary] = await router.generate(whole)
    [streamed] = await router.messages(whole)

    assert kinds([streamed]) == ["batch"]
    assert kinds(list(streamed.batch.events)) == kinds(list(unary.batch.events))
    assert text(list(streamed.batch.events)) == text(list(unary.batch.events))


async def test_max_tokens_truncates_with_finish_reason_length(router: RouterUnderTest) -> None:
    responses = await router.generate(request(params=pb.GenerationParams(max_tokens=2)))

    assert text(responses) == "Echo: hello"
    assert responses[-1].finished.finish_reason == "length"
    assert router.openai.requests[0]["body"]["max_tokens"] == 2


async def test_falls_back_to_the_next_provider_when_the_first_returns_503(
    router: RouterUnderTest,
) -> None:
    router.openai.script(status=503)

    responses = await router.generate(request("acme/echo-1"))

    assert kinds(responses)[0] == "started"
    started = responses[0].started
    assert (started.provider, started.provider_model_id) == ("groq", "echo-1-groq")
    assert text(responses) == "Echo: hello there router"
    routing = responses[-1].finished.provider_metadata.gateway.routing
    assert routing.resolved_provider == "openai"
    assert routing.final_provider == "groq"
    assert list(routing.fallbacks_available) == ["groq"]
    first, second = routing.attempts
    assert (first.provider, first.success, first.status_code) == ("openai", False, 503)
    assert "overloaded" in first.error_message
    assert (second.provider, second.success) == ("groq", True)
    assert router.openai.requests[0]["body"]["model"] == "echo-1-openai"
    [sent] = router.groq.requests
    assert sent["authorized"] is True  # with GROQ_KEY, not OPENAI_KEY
    assert sent["body"]["model"] == "echo-1-groq"
    assert sent["body"]["stream_options"] == {"include_usage": True}
    _, fact = await router.usage_fact(started.generation_id)
    assert (fact.provider, fact.attempts) == ("groq", 2)
    assert GROQ_KEY != OPENAI_KEY


async def test_routing_order_and_only_choose_the_provider(router: RouterUnderTest) -> None:
    ordered = await router.generate(
        request("acme/echo-1", routing=pb.RoutingOptions(order=["groq"]))
    )
    only = await router.generate(request("acme/echo-1", routing=pb.RoutingOptions(only=["openai"])))

    assert ordered[0].started.provider == "groq"
    assert only[0].started.provider == "openai"
    assert list(only[-1].finished.provider_metadata.gateway.routing.fallbacks_available) == []


async def test_a_provider_without_credentials_is_skipped(router: RouterUnderTest) -> None:
    responses = await router.generate(request("acme/echo-2"))

    assert responses[0].started.provider == "openai"
    routing = responses[-1].finished.provider_metadata.gateway.routing
    [served] = routing.attempts  # only the providers called
    [skipped] = routing.skipped
    assert (skipped.provider, skipped.success, skipped.skipped) == ("mistral", False, True)
    assert skipped.error_message == "skipped: no credentials for this provider"
    assert (served.provider, served.success) == ("openai", True)
    _, fact = await router.usage_fact(responses[0].started.generation_id)
    assert fact.attempts == 1  # the skipped provider was never called


async def test_no_provider_available(router: RouterUnderTest) -> None:
    error = await failure(router, request("acme/lonely"))

    details = error_details(error)
    assert details.code == grpc.StatusCode.UNAVAILABLE
    assert details.reason == "NO_PROVIDER_AVAILABLE"


async def test_unknown_model_is_not_found(router: RouterUnderTest) -> None:
    error = await failure(router, request("nobody/nothing"))

    details = error_details(error)
    assert details.code == grpc.StatusCode.NOT_FOUND
    assert details.reason == "MODEL_NOT_FOUND"
    assert details.metadata["param"] == "model"
    assert router.openai.requests == type(router.openai.requests)()


async def test_a_provider_4xx_is_passed_through(router: RouterUnderTest) -> None:
    router.openai.script(
        status=400,
        error={
            "message": "Invalid value for 'temperature'.",
            "param": "temperature",
            "code": "invalid_value",
        },
    )

    error = await failure(router, request("acme/echo-1"))

    details = error_details(error)
    assert (details.code, details.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "PROVIDER_REJECTED")
    assert details.message == "Invalid value for 'temperature'."
    assert details.metadata == {
        "provider_status": "400",
        "type": "invalid_request_error",
        "code": "invalid_value",
        "param": "temperature",
    }
    assert router.groq.requests == type(router.groq.requests)()  # a bad request is not retried


async def test_every_provider_failing_is_a_provider_error(router: RouterUnderTest) -> None:
    router.openai.script(status=503)
    router.groq.script(status=500)

    error = await failure(router, request("acme/echo-1"))

    details = error_details(error)
    assert details.code == grpc.StatusCode.UNAVAILABLE
    assert details.reason == "PROVIDER_ERROR"
    assert "provider_status" not in details.metadata


async def test_a_stream_cut_after_start_ends_with_an_error_event(router: RouterUnderTest) -> None:
    router.openai.script(break_after_chunks=2)

    responses = await router.generate(request("acme/echo-1"))

    events = kinds(responses)
    assert (events[0], events[-1]) == ("started", "error")
    assert set(events[1:-1]) == {"text_delta"}
    assert text(responses) == "Echo: hello"
    failure = responses[-1].error
    assert (failure.reason, failure.provider_status) == ("PROVIDER_ERROR", 0)
    assert (failure.type, failure.status_code) == ("", 0)  # no longer sent: the edge decides
    assert router.groq.requests == type(router.groq.requests)()  # no fallback after the first byte
    _, fact = await router.usage_fact(responses[0].started.generation_id)
    assert fact.status == "error"
    assert fact.output_tokens > 0  # estimated from what was streamed


async def test_list_and_get_models(router: RouterUnderTest) -> None:
    listed = await router.stub.ListModels(pb.ListModelsRequest())
    by_id = {m.id: m for m in listed.models}
    got = await router.stub.GetModel(pb.GetModelRequest(id="gpt-4o-mini"))

    assert "openai/gpt-4o" in by_id and "acme/echo-1" in by_id
    assert got.model.id == "openai/gpt-4o-mini"
    assert got.model.pricing.input == "0.00000015"
    assert got.model.pricing.input_cache_read == "0.000000075"
    assert got.model.pricing.input_cache_write == ""
    assert list(got.model.providers) == ["openai"]
    assert got.model.released == 1721260800
    assert list(by_id["acme/echo-1"].providers) == ["openai", "groq"]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await router.stub.GetModel(pb.GetModelRequest(id="nobody/nothing"))
    assert error_details(raised.value).reason == "MODEL_NOT_FOUND"


async def test_a_caller_going_away_mid_stream_still_records_usage(
    router: RouterUnderTest,
) -> None:
    router.openai.script(chunk_delay_ms=300)
    call = router.stub.StreamGenerate(request("acme/echo-1"), timeout=30)
    started = (await call.read()).started
    assert started.generation_id

    call.cancel()

    _, fact = await router.usage_fact(started.generation_id)
    assert fact.status == "error"
    assert fact.provider == "openai"


async def test_fallback_models_are_tried_after_the_primary_one(router: RouterUnderTest) -> None:
    router.openai.script(status=503)
    router.groq.script(status=429)

    responses = await router.generate(
        request("acme/echo-1", routing=pb.RoutingOptions(models=["acme/echo-2"]))
    )

    started = responses[0].started
    assert (started.model, started.provider) == ("acme/echo-2", "openai")
    assert started.provider_model_id == "echo-2-openai"
    routing = responses[-1].finished.provider_metadata.gateway.routing
    assert routing.original_model_id == "acme/echo-1"
    assert routing.canonical_slug == "acme/echo-2"
    assert [a.provider for a in routing.skipped] == ["mistral"]  # no credentials
    assert [(a.provider, a.status_code, a.success) for a in routing.attempts] == [
        ("openai", 503, False),
        ("groq", 429, False),
        ("openai", 200, True),
    ]


async def test_an_unknown_fallback_model_is_not_found(router: RouterUnderTest) -> None:
    error = await failure(
        router, request("acme/echo-1", routing=pb.RoutingOptions(models=["nobody/nothing"]))
    )

    details = error_details(error)
    assert (details.reason, details.metadata["param"]) == ("MODEL_NOT_FOUND", "models")
