"""``Idempotency-Key`` with two router processes on one database behind the edge, as router
pods run in a cluster: retries that land on either router get the first answer, the provider
is called once and billing charges once, and concurrent repeats spread over both routers still
make one provider call."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openai
import pytest
from tollgate_common.testing import free_port

from tests.support.api import generation
from tests.support.billing import CATALOG, PRICEY, billing_suite, expected_cost
from tests.support.polling import eventually
from tests.support.replicas import Routers, first_router_env, two_routers
from tests.support.upstreams import Upstream

HELLO = [{"role": "user", "content": "say hello"}]


@pytest.fixture(scope="module")
def routers(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Routers]:
    tmp = tmp_path_factory.mktemp("idempotency-replicas")
    metrics = f"127.0.0.1:{free_port()}"
    with (
        billing_suite(upstream, tmp, CATALOG, first_router_env(metrics)) as stack,
        two_routers(stack, tmp, metrics, PRICEY) as both,
    ):
        yield both


def _chats(upstream: Upstream) -> int:
    return sum(1 for r in upstream.requests() if r["path"] == "/v1/chat/completions")


def _keyed(key: str) -> dict[str, Any]:
    return {"extra_headers": {"Idempotency-Key": key}}


def test_retries_on_either_router_reach_the_provider_once(
    routers: Routers, fresh_upstream: Upstream
) -> None:
    stack = routers.stack
    client = openai.OpenAI(base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0)
    before = routers.generations_handled()
    answers = [
        client.chat.completions.create(model=PRICEY, messages=HELLO, **_keyed("replicas-1"))
        for _ in range(6)
    ]
    served = [after - was for after, was in zip(routers.generations_handled(), before, strict=True)]
    assert all(count > 0 for count in served), served  # the retries reached both routers
    assert len({answer.id for answer in answers}) == 1
    assert _chats(fresh_upstream) == 1
    record = eventually(lambda: generation(stack, answers[0].id))
    assert Decimal(str(record["total_cost"])) == expected_cost(answers[0].usage)


def test_concurrent_repeats_over_both_routers_make_one_provider_call(
    routers: Routers, fresh_upstream: Upstream
) -> None:
    stack = routers.stack
    fresh_upstream.script(latency_ms=1500)

    async def repeats() -> list[Any]:
        client = openai.AsyncOpenAI(
            base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0, timeout=60
        )
        async with client:
            return await asyncio.gather(
                *(
                    client.chat.completions.create(
                        model=PRICEY, messages=HELLO, **_keyed("replicas-concurrent")
                    )
                    for _ in range(6)
                )
            )

    before = routers.generations_handled()
    answers = asyncio.run(repeats())
    served = [after - was for after, was in zip(routers.generations_handled(), before, strict=True)]
    assert all(count > 0 for count in served), served
    assert len({answer.id for answer in answers}) == 1
    assert _chats(fresh_upstream) == 1
