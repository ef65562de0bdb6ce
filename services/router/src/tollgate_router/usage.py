"""What a finished generation reports: token usage, cost, gateway metadata, the usage fact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tollgate.events.v1 import usage_pb2
from tollgate_common.bus import USAGE_RECORDED
from tollgate_common.outbox import Fact
from tollgate_common.usage_record import FactFields

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


# The values the fact takes from a record, its caller and its token counts: every field named
# as one of the fact's (a count the router adds to TokenUsage reaches the fact by its name).
_RECORD_FIELDS = FactFields(UsageRecord)
_CALLER_FIELDS = FactFields(Caller)
_USAGE_FIELDS = FactFields(TokenUsage)


def usage_fact(record: UsageRecord, headers: tuple[tuple[str, str], ...] = ()) -> Fact:
    """``tollgate.events.v1.UsageRecorded`` on ``tollgate.usage.recorded.v1``, keyed by the
    generation id (JetStream drops a repeat)."""
    message = usage_pb2.UsageRecorded(
        **_RECORD_FIELDS.values(record),
        **_CALLER_FIELDS.values(record.caller),
        **_USAGE_FIELDS.values(record.usage),
    )
    return Fact(
        subject=USAGE_RECORDED,
        msg_id=record.generation_id,
        payload=message.SerializeToString(),
        headers=headers,
    )
