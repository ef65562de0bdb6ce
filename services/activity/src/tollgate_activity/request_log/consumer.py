"""The durable ``activity-usage`` consumer: UsageRecorded facts → request log entries."""

from __future__ import annotations

from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_common.fact_consumer import USAGE_FACTS, FactConsumer

from tollgate_activity.errors import InvalidUsage
from tollgate_activity.request_log.repository import USAGE_CONSUMER
from tollgate_activity.request_log.service import (
    RequestLogEntry,
    RequestLogService,
    entry_from_fact,
)


class UsageConsumer(FactConsumer[UsageRecorded, RequestLogEntry]):
    """The durable ``activity-usage`` consumer (see :mod:`tollgate_common.fact_consumer`)."""

    def __init__(self, service: RequestLogService) -> None:
        super().__init__(
            USAGE_FACTS,
            durable=USAGE_CONSUMER,
            convert=entry_from_fact,
            store=service.record_requests,
            invalid=InvalidUsage,
        )
