"""What billing's integration tests share: a clock they move by hand, the facts billing
published (kept in memory), a generation as billing stores it, and a quote."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tollgate.events.v1 import activity_pb2
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_billing.generations.service import Generation
from tollgate_billing.ledger.view import Quote
from tollgate_common.outbox import Fact
from tollgate_common.usage_record import usage_record

D = Decimal
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Facts:
    def __init__(self) -> None:
        self.facts: list[Fact] = []

    def put(self, fact: Fact) -> None:
        self.facts.append(fact)

    def events(self) -> list[tuple[str, str]]:
        out = []
        for fact in self.facts:
            event = activity_pb2.ActivityRecorded.FromString(fact.payload)
            out.append((event.type, event.details["amount"]))
        return out


def generation(gen_id: str, cost: str, team_id: str = "team_a", **changes: object) -> Generation:
    fact = UsageRecorded(
        generation_id=gen_id,
        team_id=team_id,
        key_id="key_1",
        user_id="user_1",
        model="openai/gpt-4o",
        provider="openai",
        provider_model_id="gpt-4o",
        credential_type="system",
        finish_reason="stop",
        status="success",
        input_tokens=10,
        output_tokens=10,
        cost=cost,
        market_cost=cost,
        price_version="v1",
        ttft_ms=1,
        latency_ms=2,
    )
    return usage_record(fact, T0, **changes)


QUOTE = Quote(
    input_tokens=100,
    max_output_tokens=100,
    model_max_output_tokens=0,
    input_price=D("0.001"),
    output_price=D("0.004"),
)  # holds 0.1 + 0.4 = 0.5
