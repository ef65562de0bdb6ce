"""The durable ``billing-usage`` consumer: UsageRecorded facts → generation records."""

from __future__ import annotations

from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_common.fact_consumer import USAGE_FACTS, FactConsumer

from tollgate_billing.errors import InvalidUsage
from tollgate_billing.generations.service import Generation, GenerationService, generation_from_fact

USAGE_CONSUMER = "billing-usage"


class UsageConsumer(FactConsumer[UsageRecorded, Generation]):
    """The durable ``billing-usage`` consumer (see :mod:`tollgate_common.fact_consumer`)."""

    def __init__(self, service: GenerationService) -> None:
        super().__init__(
            USAGE_FACTS,
            durable=USAGE_CONSUMER,
            convert=generation_from_fact,
            store=service.record_usages,
            invalid=InvalidUsage,
        )
