"""The end of a served request, whatever it was (a generation, an embeddings request): its usage
fact goes to the outbox (with the trace context, for billing and activity), the hold it drew
from at billing is settled at what it was charged, and it is counted.

A generation whose caller waits for its end settles *durably*: the last event goes out only
once the fact is acknowledged by JetStream or committed to the router's outbox table, so a
kill -9 of the router after the answer reached the client cannot lose the charge."""

from __future__ import annotations

from typing import Protocol

from tollgate_common.outbox import Fact

from tollgate_router.credit.holds import Hold
from tollgate_router.metrics import RouterMetrics
from tollgate_router.usage import UsageRecord, usage_fact


class FactSink(Protocol):
    """Where facts go (the outbox): ``put`` never blocks; ``deliver`` returns once the fact is
    durable (False if it could not be made so in time: it stays queued)."""

    def put(self, fact: Fact) -> None: ...

    async def deliver(self, fact: Fact) -> bool: ...


def settled(
    record: UsageRecord,
    hold: Hold,
    headers: tuple[tuple[str, str], ...],
    metrics: RouterMetrics | None,
) -> Fact:
    """Settle ``hold`` at what the record was charged and count it; returns the usage fact, for
    the caller to queue (``put``) or to deliver, waiting until it is durable."""
    if record.status == "success":
        hold.settle(record.cost, record.model, record.usage.output_tokens)
    else:
        hold.settle(record.cost)
    if metrics is not None:
        metrics.generation(record)
    return usage_fact(record, headers)
