"""What a finished generation reports: token usage, cost, gateway metadata, the usage fact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.events.v1 import usage_pb2
from tollgate_common.bus import USAGE_RECORDED
from tollgate_common.money import format_usd
from tollgate_common.outbox import Fact

from tollgate_router.catalog.pricing import TokenUsage
from tollgate_router.domain import Caller, Message, TextPart
from tollgate_router.providers import UsageReport


def from_report(report: UsageReport, images: int = 0, per_image: bool = False) -> TokenUsage:
    """The provider's counts, plus ``images`` generated. With a per-image price
    (``per_image``) the tokens that encode the images leave ``output_tokens``: each image is
    charged once, by the image."""
    output = report.completion_tokens
    if images and per_image:
        output = max(0, output - report.image_tokens)
    return TokenUsage(
        input_tokens=report.prompt_tokens,
        output_tokens=output,
        cached_input_tokens=report.cached_tokens,
        cache_write_tokens=report.cache_write_tokens,
        reasoning_tokens=report.reasoning_tokens,
        images=images,
    )


def _chars(messages: tuple[Message, ...]) -> int:
    total = 0
    for message in messages:
        if isinstance(message.content, str):
            total += len(message.content)
        elif message.content is not None:
            total += sum(len(p.text) for p in message.content if isinstance(p, TextPart))
    return total


def estimate(messages: tuple[Message, ...], output_chars: int) -> TokenUsage:
    """A rough count (4 characters a token) for when the provider reported none."""
    return TokenUsage(input_tokens=-(-_chars(messages) // 4), output_tokens=-(-output_chars // 4))


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


@dataclass(frozen=True, slots=True)
class UsageRecord:
    generation_id: str
    caller: Caller
    model: str
    provider: str
    provider_model_id: str
    credential_type: str
    usage: TokenUsage
    cost: Decimal  # charged
    market_cost: Decimal  # list price
    price_version: str
    ttft_ms: int
    latency_ms: int
    streamed: bool
    finish_reason: str
    status: str  # "success" or "error"
    created_at: datetime
    attempts: int
    hold_id: str = ""  # the billing hold (credit lease) it drew from


def usage_fact(record: UsageRecord, headers: tuple[tuple[str, str], ...] = ()) -> Fact:
    """``tollgate.events.v1.UsageRecorded`` on ``tollgate.usage.recorded.v1``, keyed by the
    generation id (JetStream drops a repeat)."""
    caller, usage = record.caller, record.usage
    message = usage_pb2.UsageRecorded(
        generation_id=record.generation_id,
        team_id=caller.team_id,
        project_id=caller.project_id,
        key_id=caller.key_id,
        user_id=caller.user_id,
        request_id=caller.request_id,
        model=record.model,
        provider=record.provider,
        provider_model_id=record.provider_model_id,
        credential_type=record.credential_type,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cost=format_usd(record.cost),
        market_cost=format_usd(record.market_cost),
        price_version=record.price_version,
        ttft_ms=record.ttft_ms,
        latency_ms=record.latency_ms,
        streamed=record.streamed,
        finish_reason=record.finish_reason,
        status=record.status,
        created_at=timestamp(record.created_at),
        app_title=caller.app_title,
        app_referer=caller.app_referer,
        attempts=record.attempts,
        end_user=caller.end_user,
        tags=caller.tags,
        images=usage.images,
        hold_id=record.hold_id,
    )
    return Fact(
        subject=USAGE_RECORDED,
        msg_id=record.generation_id,
        payload=message.SerializeToString(),
        headers=headers,
    )
