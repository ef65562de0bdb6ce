"""The durable ``activity-usage`` consumer: UsageRecorded facts → request log entries."""

from __future__ import annotations

from datetime import UTC, datetime

from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_common.fact_consumer import USAGE_FACTS, FactConsumer
from tollgate_common.money import parse_usd

from tollgate_activity.errors import InvalidUsage
from tollgate_activity.repository import USAGE_CONSUMER
from tollgate_activity.service import ActivityService, RequestLogEntry


def entry_from_fact(fact: UsageRecorded, received_at: datetime) -> RequestLogEntry:
    """The request log entry a fact describes; :class:`InvalidUsage` for non-decimal amounts."""
    try:
        cost, market_cost = parse_usd(fact.cost), parse_usd(fact.market_cost)
    except ValueError as exc:
        raise InvalidUsage(str(exc)) from exc
    created_at = fact.created_at.ToDatetime(UTC) if fact.HasField("created_at") else received_at
    return RequestLogEntry(
        generation_id=fact.generation_id,
        created_at=created_at,
        team_id=fact.team_id,
        project_id=fact.project_id,
        key_id=fact.key_id,
        model=fact.model,
        provider=fact.provider,
        credential_type=fact.credential_type,
        input_tokens=fact.input_tokens,
        output_tokens=fact.output_tokens,
        cached_input_tokens=fact.cached_input_tokens,
        reasoning_tokens=fact.reasoning_tokens,
        cost=cost,
        market_cost=market_cost,
        ttft_ms=fact.ttft_ms,
        latency_ms=fact.latency_ms,
        streamed=fact.streamed,
        finish_reason=fact.finish_reason,
        status=fact.status,
        app_title=fact.app_title,
        app_referer=fact.app_referer,
        attempts=fact.attempts,
    )


class UsageConsumer(FactConsumer[UsageRecorded, RequestLogEntry]):
    """The durable ``activity-usage`` consumer (see :mod:`tollgate_common.fact_consumer`)."""

    def __init__(self, service: ActivityService) -> None:
        super().__init__(
            USAGE_FACTS,
            durable=USAGE_CONSUMER,
            convert=entry_from_fact,
            store=service.record_requests,
            invalid=InvalidUsage,
        )
