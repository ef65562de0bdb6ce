"""The durable ``billing-usage`` consumer: UsageRecorded facts → generation records."""

from __future__ import annotations

from datetime import UTC, datetime

from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_common.fact_consumer import USAGE_FACTS, FactConsumer
from tollgate_common.money import ZERO, parse_usd

from tollgate_billing.errors import InvalidUsage
from tollgate_billing.repository import USAGE_CONSUMER
from tollgate_billing.service import BillingService, Generation

BYOK = "byok"


def generation_from_fact(fact: UsageRecorded, received_at: datetime) -> Generation:
    """The generation a fact describes; :class:`InvalidUsage` if its amounts are not decimals."""
    try:
        cost, market_cost = parse_usd(fact.cost), parse_usd(fact.market_cost)
    except ValueError as exc:
        raise InvalidUsage(str(exc)) from exc
    if fact.credential_type == BYOK:
        cost = ZERO  # the team paid the provider itself; marketCost stays at list price
    created_at = fact.created_at.ToDatetime(UTC) if fact.HasField("created_at") else received_at
    return Generation(
        id=fact.generation_id,
        team_id=fact.team_id,
        project_id=fact.project_id,
        key_id=fact.key_id,
        user_id=fact.user_id,
        model=fact.model,
        provider=fact.provider,
        provider_model_id=fact.provider_model_id,
        credential_type=fact.credential_type,
        streamed=fact.streamed,
        finish_reason=fact.finish_reason,
        status=fact.status,
        input_tokens=fact.input_tokens,
        output_tokens=fact.output_tokens,
        cached_input_tokens=fact.cached_input_tokens,
        cache_write_tokens=fact.cache_write_tokens,
        reasoning_tokens=fact.reasoning_tokens,
        cost=cost,
        market_cost=market_cost,
        price_version=fact.price_version,
        ttft_ms=fact.ttft_ms,
        latency_ms=fact.latency_ms,
        created_at=created_at,
        end_user=fact.end_user,
        tags=tuple(dict.fromkeys(fact.tags)),  # a tag named twice counts once
        hold_id=fact.hold_id,
    )


class UsageConsumer(FactConsumer[UsageRecorded, Generation]):
    """The durable ``billing-usage`` consumer (see :mod:`tollgate_common.fact_consumer`)."""

    def __init__(self, service: BillingService) -> None:
        super().__init__(
            USAGE_FACTS,
            durable=USAGE_CONSUMER,
            convert=generation_from_fact,
            store=service.record_usages,
            invalid=InvalidUsage,
        )
