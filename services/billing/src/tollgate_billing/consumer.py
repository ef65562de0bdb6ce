"""The durable ``billing-usage`` consumer: UsageRecorded facts → generation records."""

from __future__ import annotations

from tollgate_common.usage_consumer import UsageFactConsumer

from tollgate_billing.errors import InvalidUsage
from tollgate_billing.repository import USAGE_CONSUMER
from tollgate_billing.service import BillingService, Generation, generation_from_fact


class UsageConsumer(UsageFactConsumer[Generation]):
    """The durable ``billing-usage`` consumer (see :mod:`tollgate_common.usage_consumer`)."""

    def __init__(self, service: BillingService) -> None:
        super().__init__(
            durable=USAGE_CONSUMER,
            convert=generation_from_fact,
            store=service.record_usages,
            invalid=InvalidUsage,
        )
