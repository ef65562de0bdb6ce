"""The billing suites: a suite of its own per test (the bootstrap team's balance is what is
under test) in front of the session's fake OpenAI upstream, with a catalog override adding a
priced model; and what the tests check of its charges."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
from tollgate_cli.stack import Ports, Stack, StackConfig
from tollgate_common.testing import ports_in

from tests.support.api import credits, generation
from tests.support.polling import eventually
from tests.support.upstreams import UPSTREAM_KEY, Upstream

D = Decimal
PRICEY = "test/pricey"
IN_PRICE, OUT_PRICE = D("0.01"), D("0.1")


def priced_catalog(
    model_id: str, description: str, input_price: Decimal, output_price: Decimal
) -> dict[str, Any]:
    """A catalog override with one language model served by ``openai`` (as ``gpt-4o``) at
    these prices per token, at most 10 output tokens."""
    return {
        "models": [
            {
                "id": model_id,
                "name": f"{model_id} (test)",
                "creator": "test",
                "type": "language",
                "description": description,
                "context_window": 1000,
                "max_output_tokens": 10,
                "input_modalities": ["text"],
                "output_modalities": ["text"],
                "released": "2026-01-01",
                "providers": [
                    {
                        "provider": "openai",
                        "provider_model_id": "gpt-4o",
                        "pricing": {"input": str(input_price), "output": str(output_price)},
                    }
                ],
            }
        ]
    }


CATALOG = priced_catalog(
    PRICEY, "A model priced so that $5 pays for a few generations.", IN_PRICE, OUT_PRICE
)


@contextlib.contextmanager
def billing_suite(
    upstream: Upstream,
    tmp_path: Path,
    models: dict[str, Any],
    env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """A suite of its own in front of the fake OpenAI upstream, with ``models`` added to the
    catalog (and ``env`` added to its environment)."""
    upstream.reset()
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(models))
    config = StackConfig(
        data_dir=tmp_path / "data",
        ports=Ports.free(taken=ports_in((env or {}).values())),
        env={
            "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"{upstream.url}/v1",
            "TOLLGATE_PROVIDER_OPENAI_API_KEY": UPSTREAM_KEY,
            "TOLLGATE_CATALOG_FILE": str(catalog),
            **(env or {}),
        },
    )
    with Stack(config) as running:
        yield running
    upstream.reset()


def expected_cost(usage: Any) -> Decimal:
    return usage.prompt_tokens * IN_PRICE + usage.completion_tokens * OUT_PRICE


def ask(stack: Stack, text: str = "a b c", model: str = PRICEY) -> Any:
    api = openai.OpenAI(base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0)
    return api.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])


def charged_exactly(stack: Stack, completions: list[Any]) -> Decimal:
    """Wait until billing has every generation, check each cost; returns their sum."""
    total = D(0)
    for completion in completions:
        record = eventually(lambda c=completion: generation(stack, c.id))
        cost = expected_cost(completion.usage)
        assert D(str(record["total_cost"])) == cost, record
        assert record["native_tokens_prompt"] == completion.usage.prompt_tokens
        total += cost
    return total


def settled(stack: Stack, total_used: Decimal) -> dict[str, str]:
    """Credits once billing has charged ``total_used``."""

    def probe() -> dict[str, str] | None:
        current = credits(stack)
        return current if D(current["total_used"]) == total_used else None

    return eventually(probe)


async def concurrent_asks(
    stack: Stack, count: int
) -> tuple[list[Any], list[openai.APIStatusError]]:
    """``count`` generations of ``PRICEY`` at once: those served, those refused."""
    api = openai.AsyncOpenAI(
        base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0, timeout=120
    )
    async with api:
        return await asks(api, PRICEY, "a b c", count, concurrency=count)


async def asks(
    api: openai.AsyncOpenAI, model: str, label: str, count: int, concurrency: int
) -> tuple[list[Any], list[openai.APIStatusError]]:
    """``count`` generations of ``model`` (``label`` and a number as the prompt), at most
    ``concurrency`` at a time: those served, those refused."""
    gate = asyncio.Semaphore(concurrency)
    served: list[Any] = []
    refused: list[openai.APIStatusError] = []

    async def one(i: int) -> None:
        async with gate:
            try:
                served.append(
                    await api.chat.completions.create(
                        model=model, messages=[{"role": "user", "content": f"{label} {i}"}]
                    )
                )
            except openai.APIStatusError as exc:
                refused.append(exc)

    await asyncio.gather(*(one(i) for i in range(count)))
    return served, refused


def grpc_calls(metrics_url: str, method: str) -> int:
    """How many calls of ``method`` the service whose ``/metrics`` this is has handled."""
    text = httpx.get(metrics_url).text
    pattern = rf'tollgate_grpc_server_handled_total\{{[^}}]*method="{method}"[^}}]*\}} (\S+)'
    return int(sum(float(v) for v in re.findall(pattern, text)))
