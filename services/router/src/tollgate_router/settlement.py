"""The end of a served request, whatever it was (a generation, an embeddings request): its usage
fact goes to the outbox (with the trace context, for billing and activity), the hold it drew
from at billing is settled at what it was charged, and it is counted."""

from __future__ import annotations

from typing import Protocol

from tollgate_common.outbox import Fact

from tollgate_router.credit.holds import Hold
from tollgate_router.metrics import RouterMetrics
from tollgate_router.usage import UsageRecord, usage_fact


class FactSink(Protocol):
    """Where facts go (the outbox): ``put`` never blocks."""

    def put(self, fact: Fact) -> None: ...


def settle(
    facts: FactSink,
    record: UsageRecord,
    hold: Hold,
    *,
    headers: tuple[tuple[str, str], ...] = (),
    metrics: RouterMetrics | None = None,
) -> None:
    facts.put(usage_fact(record, headers))
    hold.settle(record.cost)
    if metrics is not None:
        metrics.generation(record)
