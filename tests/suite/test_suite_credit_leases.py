"""Credit leases through the whole suite: a burst of concurrent requests and then a tail of
sequential ones spend a team's balance down to less than one generation's worst case; most
generations reserve without calling billing; none overdraws; every one is charged exactly.

``test/leased`` is served by ``openai`` at $0.0008 per input token and $0.008 per output token,
at most 10 output tokens: a worst case of about $0.09, so the $5 free grant pays for ~100
generations, and billing (told to lease while a team can pay 5 worst cases) grants leases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openai
import pytest
from tollgate_cli.stack import Stack
from tollgate_common.testing import free_port

from tests.support.api import credits, generation
from tests.support.billing import asks, billing_suite, grpc_calls, priced_catalog, settled
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

D = Decimal
LEASED = "test/leased"
IN_PRICE, OUT_PRICE = D("0.0008"), D("0.008")
CATALOG = priced_catalog(
    LEASED, "A model priced so that $5 pays for about a hundred generations.", IN_PRICE, OUT_PRICE
)


@pytest.fixture
def leased(upstream: Upstream, tmp_path: Path) -> Iterator[tuple[Stack, str]]:
    metrics = f"127.0.0.1:{free_port()}"
    env = {
        "TOLLGATE_BILLING_METRICS_ADDR": metrics,
        "TOLLGATE_BILLING_LEASE_MIN_WORST_CASES": "5",
        "TOLLGATE_BILLING_LEASE_SHARE": "0.5",
        "TOLLGATE_ROUTER_CREDIT_LEASE": "1",
    }
    with billing_suite(upstream, tmp_path, CATALOG, env) as running:
        yield running, f"http://{metrics}/metrics"


def _charged(stack: Stack, completions: list[Any]) -> Decimal:
    """Wait until billing has every generation and check its cost; returns their sum."""
    total = D(0)
    for completion in completions:
        record = eventually(lambda c=completion: generation(stack, c.id))
        usage = completion.usage
        cost = usage.prompt_tokens * IN_PRICE + usage.completion_tokens * OUT_PRICE
        assert D(str(record["total_cost"])) == cost, record
        total += cost
    return total


async def _burst(stack: Stack, count: int, concurrency: int) -> tuple[list[Any], list[int]]:
    api = openai.AsyncOpenAI(
        base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0, timeout=120
    )
    async with api:
        served, refused = await asks(api, LEASED, "a b c", count, concurrency)
    return served, [exc.status_code for exc in refused]


def test_leases_spend_a_balance_down_exactly_without_overdrawing(
    leased: tuple[Stack, str], upstream: Upstream
) -> None:
    stack, metrics_url = leased
    upstream.script(latency_ms=20, times=1000)
    served, refused = asyncio.run(_burst(stack, 60, concurrency=20))
    assert not refused, "60 generations fit in $5"
    reserves = grpc_calls(metrics_url, "Reserve")
    assert reserves < len(served) / 3, f"{reserves} Reserve calls for {len(served)} generations"

    # The tail: one at a time until billing says no.
    api = openai.OpenAI(base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0)
    with pytest.raises(openai.APIStatusError) as refusal:  # noqa: PT012 - a loop that ends in one
        for i in range(200):
            served.append(
                api.chat.completions.create(
                    model=LEASED, messages=[{"role": "user", "content": f"tail {i}"}]
                )
            )
    assert refusal.value.status_code == 402, "$5 should not pay for 260 generations"

    assert len(upstream.requests()) == len(served)  # nothing sent upstream for the 402
    total = _charged(stack, served)
    account = settled(stack, total)
    balance = D(account["balance"])
    assert D(0) <= balance
    assert balance + total == D(5)
    # What is left could not pay for one more generation: no lease kept money back.
    worst = 14 * IN_PRICE + 10 * OUT_PRICE
    assert balance < worst, account
    assert eventually(lambda: D(credits(stack)["balance"]) == balance)
