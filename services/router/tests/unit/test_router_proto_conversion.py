"""The servicer's protobuf vocabulary: a request as the edge sends it becomes exactly the domain
request (every field it sets, and defaults for those it leaves out), and a generation's events
become exactly the answer the edge reads: each event in its message, in order, the gateway
metadata with its attempts in the order they were made and their times to the microsecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.router.v1 import router_pb2 as pb
from tollgate_router.catalog.pricing import TokenUsage
from tollgate_router.convert import (
    TYPICAL_OUTPUT_TOKENS,
    answer_to_proto,
    event_to_proto,
    generation_request_from_proto,
)
from tollgate_router.credit.estimates import estimate_prompt_tokens
from tollgate_router.domain import (
    Attempt,
    ByokKey,
    Caller,
    FilePart,
    FunctionTool,
    GatewayMetadata,
    GenerationParams,
    GenerationRequest,
    ImagePart,
    Message,
    Reasoning,
    ReasoningDetail,
    ResponseFormat,
    Routing,
    RoutingOptions,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolOptions,
)
from tollgate_router.events import (
    Failed,
    Finished,
    GenerationEvent,
    ImageDelta,
    RateLimitStatus,
    ReasoningDelta,
    Started,
    TextDelta,
    ToolCallDelta,
    UsageReported,
)

CALLER = pb.CallerContext(
    team_id="team_1",
    project_id="prj_1",
    key_id="key_1",
    user_id="usr_1",
    request_id="req_1",
    app_title="App",
    app_referer="https://app.example/",
    surface="messages",
)
T0 = datetime(2026, 5, 1, 10, 30, 0, 123456, tzinfo=UTC)


def _stamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


# -- requests in -------------------------------------------------------------------------------


def test_a_plain_request_takes_every_default() -> None:
    rpc = pb.StreamGenerateRequest(
        caller=CALLER,
        model="openai/gpt-4o",
        messages=[pb.ChatMessage(role="user", text="Hello, how are you today?")],
    )

    messages = (Message("user", "Hello, how are you today?"),)
    assert generation_request_from_proto(rpc, 600.0) == GenerationRequest(
        model="openai/gpt-4o",
        messages=messages,
        params=GenerationParams(),
        stream=False,
        routing=RoutingOptions(
            input_tokens=estimate_prompt_tokens(messages), output_tokens=TYPICAL_OUTPUT_TOKENS
        ),
        caller=Caller(
            team_id="team_1",
            project_id="prj_1",
            key_id="key_1",
            user_id="usr_1",
            request_id="req_1",
            app_title="App",
            app_referer="https://app.example/",
            surface="messages",
        ),
        timeout=600.0,
        provider_headers={},
        provider_options={},
    )


def test_every_field_a_request_sets_reaches_the_domain_request() -> None:
    rpc = pb.StreamGenerateRequest(
        caller=CALLER,
        model="acme/m",
        messages=[
            pb.ChatMessage(role="system", text="Be brief."),
            pb.ChatMessage(
                role="user",
                name="bob",
                parts=pb.ContentParts(
                    parts=[
                        pb.ContentPart(text="What is this?"),
                        pb.ContentPart(image_url=pb.ImageUrl(url="https://i/x.png", detail="low")),
                        pb.ContentPart(
                            file=pb.FileData(data="QUJD", media_type="text/plain", filename="a")
                        ),
                    ]
                ),
            ),
            pb.ChatMessage(
                role="assistant",
                tool_calls=[pb.ToolCall(id="call_1", name="look", arguments='{"q":1}')],
                reasoning_details=[
                    pb.ReasoningDetail(
                        type="reasoning.text", text="hm", signature="sig", format="unknown"
                    )
                ],
            ),
            pb.ChatMessage(role="tool", text="found", tool_call_id="call_1"),
        ],
        params=pb.GenerationParams(
            temperature=0.0,
            max_tokens=100,
            top_p=0.5,
            frequency_penalty=0.25,
            presence_penalty=-0.5,
            stop=["END", "STOP"],
            seed=0,
            user="end-user",
            max_completion_tokens=90,
        ),
        stream=True,
        routing=pb.RoutingOptions(
            order=["groq", "openai"],
            only=["groq", "openai", "together"],
            models=["acme/other"],
            byok=[pb.ByokCredential(provider="groq", api_key="gsk")],
            sort="cost",
            has=["tool-use", "!vision"],
            zero_data_retention=True,
            disallow_prompt_training=True,
            byok_timeouts_ms={"groq": 1500},
            system_timeouts_ms={"openai": 250},
            user="alice",
            tags=["team-a", "batch"],
        ),
        provider_headers={"anthropic-beta": "x-1"},
        tools=[
            pb.FunctionTool(
                name="look", description="Look up", parameters_json='{"type":"object"}', strict=True
            ),
            pb.FunctionTool(name="noop"),
        ],
        tool_choice=pb.ToolChoice(function_name="look"),
        parallel_tool_calls=False,
        response_format=pb.ResponseFormat(
            type="json_schema", name="out", schema_json='{"type":"object"}', strict=False
        ),
        reasoning=pb.ReasoningOptions(enabled=True, max_tokens=0, effort="low", exclude=True),
        modalities=["text", "image", "text"],
        provider_options={"openai": '{"store":true}', "groq": "[1]"},
    )

    request = generation_request_from_proto(rpc, None)

    assert request.messages == (
        Message("system", "Be brief."),
        Message(
            "user",
            (
                TextPart("What is this?"),
                ImagePart("https://i/x.png", "low"),
                FilePart("QUJD", "text/plain", "a"),
            ),
            name="bob",
        ),
        Message(
            "assistant",
            None,
            tool_calls=(ToolCall("call_1", "look", '{"q":1}'),),
            reasoning_details=(ReasoningDetail("reasoning.text", "hm", "sig", "", "unknown"),),
        ),
        Message("tool", "found", tool_call_id="call_1"),
    )
    assert request.params == GenerationParams(
        temperature=0.0,
        max_tokens=100,
        max_completion_tokens=90,
        top_p=0.5,
        frequency_penalty=0.25,
        presence_penalty=-0.5,
        stop=("END", "STOP"),
        seed=0,
        user="end-user",
        tools=ToolOptions(
            tools=(
                FunctionTool("look", "Look up", {"type": "object"}, True),
                FunctionTool("noop", "", None, None),
            ),
            choice=ToolChoice("required", "look"),
            parallel=False,
        ),
        response_format=ResponseFormat("json_schema", "out", "", {"type": "object"}, False),
        reasoning=Reasoning(enabled=True, max_tokens=0, effort="low", exclude=True),
        modalities=("text", "image"),
    )
    assert request.routing == RoutingOptions(
        order=("groq", "openai"),
        only=("groq", "openai", "together"),
        models=("acme/other",),
        byok=(ByokKey("groq", "gsk"),),
        sort="cost",
        has=("tool-use", "!vision"),
        zero_data_retention=True,
        disallow_prompt_training=True,
        byok_timeouts={"groq": 1.5},
        system_timeouts={"openai": 0.25},
        input_tokens=estimate_prompt_tokens(request.messages),
        output_tokens=90,
    )
    assert request.caller.end_user == "alice" and request.caller.tags == ("team-a", "batch")
    assert (request.stream, request.timeout) == (True, None)
    assert request.provider_headers == {"anthropic-beta": "x-1"}
    assert request.provider_options == {"openai": {"store": True}}  # not an object: dropped


# -- answers out -------------------------------------------------------------------------------


def _attempt(provider: str, **fields: object) -> Attempt:
    values: dict[str, object] = {
        "provider": provider,
        "provider_model_id": f"{provider}-model",
        "success": False,
        "model_id": "acme/m",
    }
    values.update(fields)
    return Attempt(**values)  # type: ignore[arg-type]


GATEWAY = GatewayMetadata(
    generation_id="gen_1",
    cost="0.0003575",
    market_cost="0.0003575",
    routing=Routing(
        original_model_id="acme/m",
        resolved_provider="groq",
        resolved_provider_api_model_id="groq-model",
        final_provider="openai",
        attempts=(
            _attempt(
                "groq",
                start_time=T0,
                end_time=T0 + timedelta(milliseconds=20),
                status_code=429,
                error_message="HTTP 429: slow down",
            ),
            _attempt(
                "openai",
                success=True,
                start_time=T0 + timedelta(milliseconds=21),
                end_time=T0 + timedelta(seconds=1, microseconds=7),
                status_code=200,
                provider_response_id="chatcmpl-1",
                credential_type="byok",
            ),
        ),
        fallbacks_available=("openai", "together"),
        canonical_slug="acme/m",
        planning_reasoning="order: groq, openai",
        skipped=(_attempt("together", skipped=True, error_message="skipped: no credentials"),),
    ),
)

EXPECTED_GATEWAY = pb.ProviderMetadata(
    gateway=pb.GatewayMetadata(
        generation_id="gen_1",
        cost="0.0003575",
        market_cost="0.0003575",
        routing=pb.RoutingInfo(
            original_model_id="acme/m",
            resolved_provider="groq",
            resolved_provider_api_model_id="groq-model",
            final_provider="openai",
            attempts=[
                pb.ProviderAttempt(
                    provider="groq",
                    provider_api_model_id="groq-model",
                    credential_type="system",
                    success=False,
                    start_time=_stamp(T0),
                    end_time=_stamp(T0 + timedelta(milliseconds=20)),
                    status_code=429,
                    error_message="HTTP 429: slow down",
                    model_id="acme/m",
                ),
                pb.ProviderAttempt(
                    provider="openai",
                    provider_api_model_id="openai-model",
                    credential_type="byok",
                    success=True,
                    start_time=_stamp(T0 + timedelta(milliseconds=21)),
                    end_time=_stamp(T0 + timedelta(seconds=1, microseconds=7)),
                    status_code=200,
                    provider_response_id="chatcmpl-1",
                    model_id="acme/m",
                ),
            ],
            fallbacks_available=["openai", "together"],
            canonical_slug="acme/m",
            planning_reasoning="order: groq, openai",
            skipped=[
                pb.ProviderAttempt(
                    provider="together",
                    provider_api_model_id="together-model",
                    credential_type="system",
                    error_message="skipped: no credentials",
                    model_id="acme/m",
                    skipped=True,
                )
            ],
        ),
    )
)

LIMITS = RateLimitStatus(10, 9, 60_000, 1000, 900, 30_000)

EVENTS: list[tuple[GenerationEvent, pb.StreamGenerateResponse]] = [
    (
        Started("gen_1", "acme/m", "openai", T0, "openai-model", "fp_1", LIMITS),
        pb.StreamGenerateResponse(
            started=pb.GenerationStarted(
                generation_id="gen_1",
                model="acme/m",
                provider="openai",
                created=_stamp(T0),
                provider_model_id="openai-model",
                system_fingerprint="fp_1",
                rate_limit=pb.RateLimitStatus(
                    limit_requests=10,
                    remaining_requests=9,
                    reset_requests_ms=60_000,
                    limit_tokens=1000,
                    remaining_tokens=900,
                    reset_tokens_ms=30_000,
                ),
            )
        ),
    ),
    (
        Started("gen_1", "acme/m", "openai", T0, "openai-model", ""),
        pb.StreamGenerateResponse(
            started=pb.GenerationStarted(
                generation_id="gen_1",
                model="acme/m",
                provider="openai",
                created=_stamp(T0),
                provider_model_id="openai-model",
            )
        ),
    ),
    (TextDelta("Hello"), pb.StreamGenerateResponse(text_delta=pb.TextDelta(text="Hello"))),
    (TextDelta(""), pb.StreamGenerateResponse(text_delta=pb.TextDelta())),
    (
        ToolCallDelta(1, "call_1", "look", '{"q"'),
        pb.StreamGenerateResponse(
            tool_call_delta=pb.ToolCallDelta(index=1, id="call_1", name="look", arguments='{"q"')
        ),
    ),
    (
        ReasoningDelta("hm", "sig", "", "anthropic-claude-v1"),
        pb.StreamGenerateResponse(
            reasoning_delta=pb.ReasoningDelta(
                text="hm", signature="sig", format="anthropic-claude-v1"
            )
        ),
    ),
    (
        ImageDelta("data:image/png;base64,AAAA"),
        pb.StreamGenerateResponse(image_delta=pb.ImageDelta(url="data:image/png;base64,AAAA")),
    ),
    (
        UsageReported(TokenUsage(15, 32, 4, 2, 8, 1)),
        pb.StreamGenerateResponse(
            usage=pb.Usage(
                input_tokens=15,
                output_tokens=32,
                total_tokens=47,
                cached_input_tokens=4,
                cache_write_tokens=2,
                reasoning_tokens=8,
                images=1,
            )
        ),
    ),
    (UsageReported(TokenUsage()), pb.StreamGenerateResponse(usage=pb.Usage())),
    (
        Finished("stop", GATEWAY),
        pb.StreamGenerateResponse(
            finished=pb.GenerationFinished(finish_reason="stop", provider_metadata=EXPECTED_GATEWAY)
        ),
    ),
    (
        Failed("PROVIDER_ERROR", "the provider failed mid-stream", 529, "overloaded"),
        pb.StreamGenerateResponse(
            error=pb.GenerationError(
                reason="PROVIDER_ERROR",
                message="the provider failed mid-stream",
                provider_status=529,
                code="overloaded",
            )
        ),
    ),
]


def test_each_event_becomes_its_message() -> None:
    for event, expected in EVENTS:
        message = event_to_proto(event)
        assert message == expected, event
        assert message.SerializeToString() == expected.SerializeToString(), event


def test_a_whole_answer_is_its_events_in_order_in_one_batch() -> None:
    events = [event for event, _ in EVENTS]

    answer = answer_to_proto(events)

    expected = pb.StreamGenerateResponse(
        batch=pb.EventBatch(events=[message for _, message in EVENTS])
    )
    assert answer.SerializeToString() == expected.SerializeToString()
    # What the edge reads back: the attempts in the order they were made, times exact.
    read = pb.StreamGenerateResponse.FromString(answer.SerializeToString())
    routing = read.batch.events[-2].finished.provider_metadata.gateway.routing
    assert [a.provider for a in routing.attempts] == ["groq", "openai"]
    assert [a.provider for a in routing.skipped] == ["together"]
    assert routing.attempts[1].end_time.ToDatetime(UTC) == T0 + timedelta(seconds=1, microseconds=7)
    assert not routing.skipped[0].HasField("start_time")


def test_an_answer_of_no_event_is_an_empty_batch() -> None:
    answer = answer_to_proto([])
    assert answer.WhichOneof("event") == "batch" and not answer.batch.events
