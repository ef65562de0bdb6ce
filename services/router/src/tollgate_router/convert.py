"""Proto ⇄ domain values of ``tollgate.router.v1`` (the servicer's vocabulary): requests in,
events, models and answers out. No rule of the service lives here."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import orjson
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common.money import format_usd
from tollgate_common.timestamps import timestamp

from tollgate_router.catalog.catalog import ModelInfo, Pricing, ProviderOffer
from tollgate_router.credentials.check import CheckOutcome
from tollgate_router.credit.estimates import estimate_embedding_tokens, estimate_prompt_tokens
from tollgate_router.domain import (
    Attempt,
    ByokKey,
    Caller,
    ContentPart,
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
    RoutingOptions,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolOptions,
)
from tollgate_router.embeddings.service import EmbeddingRequest, Embeddings
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
from tollgate_router.idempotency.service import IdempotencyKey

# -- proto → domain ---------------------------------------------------------------------------
#
# Most requests set few fields: an empty repeated field or map becomes ``()`` / ``{}`` without
# a pass over it.

T = TypeVar("T")


def _tuple(values: Collection[T]) -> tuple[T, ...]:
    return tuple(values) if values else ()


def _part(part: pb.ContentPart) -> ContentPart:
    match part.WhichOneof("part"):
        case "image_url":
            return ImagePart(part.image_url.url, part.image_url.detail)
        case "file":
            return FilePart(part.file.data, part.file.media_type, part.file.filename)
        case _:
            return TextPart(part.text)


def _message(message: pb.ChatMessage) -> Message:
    content: str | tuple[ContentPart, ...] | None
    match message.WhichOneof("content"):
        case "text":
            content = message.text
        case "parts":
            content = tuple(_part(p) for p in message.parts.parts)
        case _:
            content = None
    return Message(
        role=message.role,
        content=content,
        name=message.name,
        tool_calls=tuple(
            ToolCall(id=c.id, name=c.name, arguments=c.arguments, type=c.type or "function")
            for c in message.tool_calls
        )
        if message.tool_calls
        else (),
        tool_call_id=message.tool_call_id,
        reasoning_details=tuple(
            ReasoningDetail(d.type, d.text, d.signature, d.data, d.format)
            for d in message.reasoning_details
        )
        if message.reasoning_details
        else (),
    )


def _schema(text: str) -> dict[str, Any] | None:
    """A JSON schema the edge validated and encoded; None when absent."""
    return orjson.loads(text) if text else None


def _tools(request: pb.StreamGenerateRequest) -> ToolOptions:
    choice = None
    if request.HasField("tool_choice"):
        which = request.tool_choice.WhichOneof("choice")
        if which == "function_name":
            choice = ToolChoice("required", request.tool_choice.function_name)
        elif which == "mode":
            choice = ToolChoice(request.tool_choice.mode)
    return ToolOptions(
        tools=tuple(
            FunctionTool(
                t.name,
                t.description,
                _schema(t.parameters_json),
                t.strict if t.HasField("strict") else None,
            )
            for t in request.tools
        )
        if request.tools
        else (),
        choice=choice,
        parallel=request.parallel_tool_calls if request.HasField("parallel_tool_calls") else None,
    )


def _response_format(request: pb.StreamGenerateRequest) -> ResponseFormat | None:
    if not request.HasField("response_format"):
        return None
    f = request.response_format
    return ResponseFormat(
        type=f.type or "text",
        name=f.name,
        description=f.description,
        schema=_schema(f.schema_json),
        strict=f.strict if f.HasField("strict") else None,
    )


def _reasoning(request: pb.StreamGenerateRequest) -> Reasoning | None:
    if not request.HasField("reasoning"):
        return None
    r = request.reasoning
    return Reasoning(
        enabled=r.enabled if r.HasField("enabled") else None,
        max_tokens=r.max_tokens if r.HasField("max_tokens") else None,
        effort=r.effort,
        exclude=r.exclude,
    )


def _params(request: pb.StreamGenerateRequest) -> GenerationParams:
    params = request.params
    given = params.HasField
    return GenerationParams(
        temperature=params.temperature if given("temperature") else None,
        max_tokens=params.max_tokens if given("max_tokens") else None,
        max_completion_tokens=(
            params.max_completion_tokens if given("max_completion_tokens") else None
        ),
        top_p=params.top_p if given("top_p") else None,
        frequency_penalty=params.frequency_penalty if given("frequency_penalty") else None,
        presence_penalty=params.presence_penalty if given("presence_penalty") else None,
        stop=_tuple(params.stop),
        seed=params.seed if given("seed") else None,
        user=params.user,
        tools=_tools(request),
        response_format=_response_format(request),
        reasoning=_reasoning(request),
        modalities=tuple(dict.fromkeys(request.modalities)) if request.modalities else (),
    )


def _caller(caller: pb.CallerContext, routing: pb.RoutingOptions) -> Caller:
    return Caller(
        team_id=caller.team_id,
        project_id=caller.project_id,
        key_id=caller.key_id,
        user_id=caller.user_id,
        request_id=caller.request_id,
        app_title=caller.app_title,
        app_referer=caller.app_referer,
        end_user=routing.user,
        tags=_tuple(routing.tags),
        surface=caller.surface,
    )


# Output tokens ``sort: "cost"`` assumes of a request that sets no max tokens.
TYPICAL_OUTPUT_TOKENS = 500


def _seconds(milliseconds: Mapping[str, int]) -> dict[str, float]:
    return {key: ms / 1000 for key, ms in milliseconds.items()} if milliseconds else {}


def _routing(
    options: pb.RoutingOptions, input_tokens: int = 0, output_tokens: int = 0
) -> RoutingOptions:
    """The routing options; ``input_tokens``/``output_tokens``: the request's estimated size."""
    return RoutingOptions(
        order=_tuple(options.order),
        only=_tuple(options.only),
        models=_tuple(options.models),
        byok=tuple(ByokKey(c.provider, c.api_key) for c in options.byok) if options.byok else (),
        sort=options.sort,
        has=_tuple(options.has),
        zero_data_retention=options.zero_data_retention,
        disallow_prompt_training=options.disallow_prompt_training,
        byok_timeouts=_seconds(options.byok_timeouts_ms),
        system_timeouts=_seconds(options.system_timeouts_ms),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def generation_request_from_proto(
    request: pb.StreamGenerateRequest, timeout: float | None
) -> GenerationRequest:
    messages = tuple(_message(m) for m in request.messages)
    params = _params(request)
    return GenerationRequest(
        model=request.model,
        messages=messages,
        params=params,
        stream=request.stream,
        routing=_routing(
            request.routing,
            estimate_prompt_tokens(messages),
            params.max_completion_tokens or params.max_tokens or TYPICAL_OUTPUT_TOKENS,
        ),
        caller=_caller(request.caller, request.routing),
        timeout=timeout,
        provider_headers=dict(request.provider_headers) if request.provider_headers else {},
        provider_options=_provider_options(request.provider_options),
    )


def _provider_options(given: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """``providerOptions``: provider slug → its options, each a JSON object."""
    if not given:
        return {}
    return {
        provider: options
        for provider, text in given.items()
        if isinstance(options := orjson.loads(text), dict)
    }


def idempotency_key_from_proto(
    request: pb.StreamGenerateRequest | pb.EmbedRequest, operation: str
) -> IdempotencyKey | None:
    """The client's ``Idempotency-Key`` of a ``generate`` or ``embed`` request; None without."""
    if not request.HasField("idempotency") or not request.idempotency.key:
        return None
    given = request.idempotency
    return IdempotencyKey.of(request.caller.team_id, given.key, operation, given.body_hash)


# -- domain → proto ---------------------------------------------------------------------------
#
# The answer's messages are written where they lie (``_write_event`` into a message of the
# answer's batch): a message given to a constructor is copied, with every message inside it.


def _time(value: datetime | None) -> Timestamp | None:
    return None if value is None else timestamp(value)


def _attempt(attempt: Attempt) -> pb.ProviderAttempt:
    return pb.ProviderAttempt(
        provider=attempt.provider,
        provider_api_model_id=attempt.provider_model_id,
        credential_type=attempt.credential_type,
        success=attempt.success,
        status_code=attempt.status_code,
        provider_response_id=attempt.provider_response_id,
        error_message=attempt.error_message,
        model_id=attempt.model_id,
        skipped=attempt.skipped,
        start_time=_time(attempt.start_time),
        end_time=_time(attempt.end_time),
    )


def _write_gateway(message: pb.GatewayMetadata, gateway: GatewayMetadata) -> None:
    routing = gateway.routing
    message.generation_id = gateway.generation_id
    message.cost = gateway.cost
    message.market_cost = gateway.market_cost
    info = message.routing
    info.original_model_id = routing.original_model_id
    info.resolved_provider = routing.resolved_provider
    info.resolved_provider_api_model_id = routing.resolved_provider_api_model_id
    info.final_provider = routing.final_provider
    info.attempts.extend([_attempt(a) for a in routing.attempts])
    info.fallbacks_available.extend(routing.fallbacks_available)
    info.canonical_slug = routing.canonical_slug
    info.planning_reasoning = routing.planning_reasoning
    info.skipped.extend([_attempt(a) for a in routing.skipped])


def _gateway(gateway: GatewayMetadata) -> pb.ProviderMetadata:
    message = pb.ProviderMetadata()
    _write_gateway(message.gateway, gateway)
    return message


def _write_event(message: pb.StreamGenerateResponse, event: GenerationEvent) -> None:
    """Write ``event`` into ``message``, an empty one."""
    match event:
        case TextDelta(text=text):
            message.text_delta.text = text
        case ToolCallDelta():
            delta = message.tool_call_delta
            delta.index = event.index
            delta.id = event.id
            delta.name = event.name
            delta.arguments = event.arguments
        case ReasoningDelta():
            reasoning = message.reasoning_delta
            reasoning.text = event.text
            reasoning.signature = event.signature
            reasoning.data = event.data
            reasoning.format = event.format
        case ImageDelta(url=url):
            message.image_delta.url = url
        case Started():
            started = message.started
            started.generation_id = event.generation_id
            started.model = event.model
            started.provider = event.provider
            started.created.CopyFrom(timestamp(event.created))
            started.provider_model_id = event.provider_model_id
            started.system_fingerprint = event.system_fingerprint
            if event.rate_limit is not None:
                started.rate_limit.CopyFrom(_rate_limit(event.rate_limit))
        case UsageReported(usage=usage):
            counts = message.usage
            counts.input_tokens = usage.input_tokens
            counts.output_tokens = usage.output_tokens
            counts.total_tokens = usage.total_tokens
            counts.cached_input_tokens = usage.cached_input_tokens
            counts.cache_write_tokens = usage.cache_write_tokens
            counts.reasoning_tokens = usage.reasoning_tokens
            counts.images = usage.images
        case Finished():
            finished = message.finished
            finished.finish_reason = event.finish_reason
            _write_gateway(finished.provider_metadata.gateway, event.gateway)
        case Failed():
            error = message.error
            error.reason = event.reason
            error.message = event.message
            error.provider_status = event.provider_status
            error.code = event.code


def event_to_proto(event: GenerationEvent) -> pb.StreamGenerateResponse:
    message = pb.StreamGenerateResponse()
    _write_event(message, event)
    return message


def answer_to_proto(events: Iterable[GenerationEvent]) -> pb.StreamGenerateResponse:
    """A whole generation's answer: its events in one batch."""
    message = pb.StreamGenerateResponse()
    message.batch.SetInParent()  # an answer of no event is still a batch
    batch = message.batch.events
    for event in events:
        _write_event(batch.add(), event)
    return message


def _usd(value: Decimal | None) -> str:
    return "" if value is None else format_usd(value)


def _pricing(pricing: Pricing) -> pb.Pricing:
    return pb.Pricing(
        input=format_usd(pricing.input),
        output=format_usd(pricing.output),
        input_cache_read=_usd(pricing.input_cache_read),
        input_cache_write=_usd(pricing.input_cache_write),
        image=_usd(pricing.image),
        tiers=[
            pb.PriceTier(
                above_input_tokens=tier.above_input_tokens,
                input=format_usd(tier.input),
                output=format_usd(tier.output),
                input_cache_read=_usd(tier.input_cache_read),
                input_cache_write=_usd(tier.input_cache_write),
            )
            for tier in pricing.tiers
        ],
    )


def _offer(offer: ProviderOffer) -> pb.ModelOffer:
    return pb.ModelOffer(
        provider=offer.provider,
        provider_model_id=offer.provider_model_id,
        pricing=None if offer.pricing is None else _pricing(offer.pricing),
        free=offer.free,
        checked="" if offer.checked is None else offer.checked.isoformat(),
        source=offer.source,
    )


def model_to_proto(model: ModelInfo) -> pb.Model:
    """The catalog entry; ``pricing`` is the first priced provider's, all zero when only free
    providers serve the model, unset when none can serve it."""
    priced = next((o.pricing for o in model.providers if o.pricing is not None), None)
    pricing = None
    if priced is not None:
        pricing = _pricing(priced)
    elif any(o.free for o in model.providers):
        pricing = pb.Pricing(input="0", output="0")
    return pb.Model(
        id=model.id,
        name=model.name,
        description=model.description,
        creator=model.creator,
        type=model.type,
        context_window=model.context_window,
        max_output_tokens=model.max_output_tokens,
        input_modalities=list(model.input_modalities),
        output_modalities=list(model.output_modalities),
        released=model.released,
        pricing=pricing,
        providers=[o.provider for o in model.providers],
        tags=list(model.tags),
        offers=[_offer(o) for o in model.providers],
    )


def embedding_request_from_proto(
    request: pb.EmbedRequest, timeout: float | None
) -> EmbeddingRequest:
    inputs = tuple(
        tuple(i.tokens.ids) if i.WhichOneof("input") == "tokens" else i.text for i in request.inputs
    )
    return EmbeddingRequest(
        model=request.model,
        inputs=inputs,
        dimensions=request.dimensions if request.HasField("dimensions") else None,
        user=request.user,
        routing=_routing(request.routing, estimate_embedding_tokens(inputs)),
        caller=_caller(request.caller, request.routing),
        timeout=timeout,
    )


def embeddings_to_proto(result: Embeddings) -> pb.EmbedResponse:
    usage = result.usage
    return pb.EmbedResponse(
        generation_id=result.generation_id,
        model=result.model,
        provider=result.provider,
        provider_model_id=result.provider_model_id,
        embeddings=[pb.Embedding(values=vector) for vector in result.vectors],
        usage=pb.Usage(input_tokens=usage.input_tokens, total_tokens=usage.total_tokens),
        provider_metadata=_gateway(result.gateway),
        created=timestamp(result.created),
        rate_limit=None if result.rate_limit is None else _rate_limit(result.rate_limit),
    )


def _rate_limit(status: RateLimitStatus) -> pb.RateLimitStatus:
    return pb.RateLimitStatus(
        limit_requests=status.limit_requests,
        remaining_requests=status.remaining_requests,
        reset_requests_ms=status.reset_requests_ms,
        limit_tokens=status.limit_tokens,
        remaining_tokens=status.remaining_tokens,
        reset_tokens_ms=status.reset_tokens_ms,
    )


def credential_outcome_to_proto(outcome: CheckOutcome) -> pb.TestCredentialResponse:
    return pb.TestCredentialResponse(
        ok=outcome.ok,
        status_code=outcome.status_code,
        message=outcome.message,
        request_json=orjson.dumps(outcome.request).decode(),
        response_json=orjson.dumps(outcome.response).decode(),
    )
