"""Proto ⇄ domain values of ``tollgate.router.v1`` (the servicer's vocabulary): requests in,
events, models and answers out. No rule of the service lives here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common.money import format_usd

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


def timestamp(value: datetime) -> Timestamp:
    """A time as the protos carry it."""
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


# -- proto → domain ---------------------------------------------------------------------------


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
        ),
        tool_call_id=message.tool_call_id,
        reasoning_details=tuple(
            ReasoningDetail(d.type, d.text, d.signature, d.data, d.format)
            for d in message.reasoning_details
        ),
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
        ),
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

    def opt(name: str) -> Any:
        return getattr(params, name) if params.HasField(name) else None

    return GenerationParams(
        temperature=opt("temperature"),
        max_tokens=opt("max_tokens"),
        max_completion_tokens=opt("max_completion_tokens"),
        top_p=opt("top_p"),
        frequency_penalty=opt("frequency_penalty"),
        presence_penalty=opt("presence_penalty"),
        stop=tuple(params.stop),
        seed=opt("seed"),
        user=params.user,
        tools=_tools(request),
        response_format=_response_format(request),
        reasoning=_reasoning(request),
        modalities=tuple(dict.fromkeys(request.modalities)),
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
        tags=tuple(routing.tags),
        surface=caller.surface,
    )


# Output tokens ``sort: "cost"`` assumes of a request that sets no max tokens.
TYPICAL_OUTPUT_TOKENS = 500


def _routing(
    options: pb.RoutingOptions, input_tokens: int = 0, output_tokens: int = 0
) -> RoutingOptions:
    """The routing options; ``input_tokens``/``output_tokens``: the request's estimated size."""
    return RoutingOptions(
        order=tuple(options.order),
        only=tuple(options.only),
        models=tuple(options.models),
        byok=tuple(ByokKey(c.provider, c.api_key) for c in options.byok),
        sort=options.sort,
        has=tuple(options.has),
        zero_data_retention=options.zero_data_retention,
        disallow_prompt_training=options.disallow_prompt_training,
        byok_timeouts={p: ms / 1000 for p, ms in options.byok_timeouts_ms.items()},
        system_timeouts={p: ms / 1000 for p, ms in options.system_timeouts_ms.items()},
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
        provider_headers=dict(request.provider_headers),
        provider_options={
            provider: options
            for provider, text in request.provider_options.items()
            if isinstance(options := orjson.loads(text), dict)
        },
    )


def idempotency_key_from_proto(
    request: pb.StreamGenerateRequest | pb.EmbedRequest, operation: str
) -> IdempotencyKey | None:
    """The client's ``Idempotency-Key`` of a ``generate`` or ``embed`` request; None without."""
    if not request.HasField("idempotency") or not request.idempotency.key:
        return None
    given = request.idempotency
    return IdempotencyKey.of(request.caller.team_id, given.key, operation, given.body_hash)


# -- domain → proto ---------------------------------------------------------------------------


def _attempt(attempt: Attempt) -> pb.ProviderAttempt:
    message = pb.ProviderAttempt(
        provider=attempt.provider,
        provider_api_model_id=attempt.provider_model_id,
        credential_type=attempt.credential_type,
        success=attempt.success,
        status_code=attempt.status_code,
        provider_response_id=attempt.provider_response_id,
        error_message=attempt.error_message,
        model_id=attempt.model_id,
        skipped=attempt.skipped,
    )
    if attempt.start_time is not None:
        message.start_time.CopyFrom(timestamp(attempt.start_time))
    if attempt.end_time is not None:
        message.end_time.CopyFrom(timestamp(attempt.end_time))
    return message


def _gateway(gateway: GatewayMetadata) -> pb.ProviderMetadata:
    routing = gateway.routing
    return pb.ProviderMetadata(
        gateway=pb.GatewayMetadata(
            generation_id=gateway.generation_id,
            cost=gateway.cost,
            market_cost=gateway.market_cost,
            routing=pb.RoutingInfo(
                original_model_id=routing.original_model_id,
                resolved_provider=routing.resolved_provider,
                resolved_provider_api_model_id=routing.resolved_provider_api_model_id,
                final_provider=routing.final_provider,
                attempts=[_attempt(a) for a in routing.attempts],
                fallbacks_available=list(routing.fallbacks_available),
                canonical_slug=routing.canonical_slug,
                planning_reasoning=routing.planning_reasoning,
                skipped=[_attempt(a) for a in routing.skipped],
            ),
        )
    )


def _finished(event: Finished) -> pb.GenerationFinished:
    return pb.GenerationFinished(
        finish_reason=event.finish_reason, provider_metadata=_gateway(event.gateway)
    )


def event_to_proto(event: GenerationEvent) -> pb.StreamGenerateResponse:
    match event:
        case TextDelta(text=text):
            return pb.StreamGenerateResponse(text_delta=pb.TextDelta(text=text))
        case ToolCallDelta():
            return pb.StreamGenerateResponse(
                tool_call_delta=pb.ToolCallDelta(
                    index=event.index, id=event.id, name=event.name, arguments=event.arguments
                )
            )
        case ReasoningDelta():
            return pb.StreamGenerateResponse(
                reasoning_delta=pb.ReasoningDelta(
                    text=event.text, signature=event.signature, data=event.data, format=event.format
                )
            )
        case ImageDelta(url=url):
            return pb.StreamGenerateResponse(image_delta=pb.ImageDelta(url=url))
        case Started():
            return pb.StreamGenerateResponse(
                started=pb.GenerationStarted(
                    generation_id=event.generation_id,
                    model=event.model,
                    provider=event.provider,
                    created=timestamp(event.created),
                    provider_model_id=event.provider_model_id,
                    system_fingerprint=event.system_fingerprint,
                    rate_limit=rate_limit_to_proto(event.rate_limit),
                )
            )
        case UsageReported(usage=usage):
            return pb.StreamGenerateResponse(
                usage=pb.Usage(
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    total_tokens=usage.total_tokens,
                    cached_input_tokens=usage.cached_input_tokens,
                    cache_write_tokens=usage.cache_write_tokens,
                    reasoning_tokens=usage.reasoning_tokens,
                    images=usage.images,
                )
            )
        case Finished():
            return pb.StreamGenerateResponse(finished=_finished(event))
        case Failed():
            return pb.StreamGenerateResponse(
                error=pb.GenerationError(
                    reason=event.reason,
                    message=event.message,
                    provider_status=event.provider_status,
                    code=event.code,
                )
            )


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
        rate_limit=rate_limit_to_proto(result.rate_limit),
    )


def rate_limit_to_proto(status: RateLimitStatus | None) -> pb.RateLimitStatus | None:
    if status is None:
        return None
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
