"""A generation whose answer reached the client is billed, and logged, whatever dies afterwards;
a non-streaming generation whose client went away after the provider was called is billed for
the provider's answer; a stream the client cut is billed for what it produced.

Each test runs its own suite (the bootstrap team's balance is the thing under test) in front of
the session's fake OpenAI upstream, with the priced model ``test/pricey`` of the billing suites.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import openai
import pytest
from tollgate_cli.stack import Stack
from tollgate_common.testing import freeze, wait_for_port

from tests.support.api import auth, client, credits, generation
from tests.support.billing import CATALOG, PRICEY, ask, billing_suite, charged_exactly, settled
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

D = Decimal


@pytest.fixture
def suite(upstream: Upstream, tmp_path: Path) -> Iterator[Stack]:
    with billing_suite(upstream, tmp_path, CATALOG) as running:
        yield running


def logged_today(stack: Stack) -> list[dict[str, Any]]:
    """Today's request log (``GET /v1/requests``)."""
    today = dt.datetime.now(dt.UTC).date()
    params = {
        "since": f"{today.isoformat()}T00:00:00Z",
        "until": f"{(today + dt.timedelta(days=1)).isoformat()}T00:00:00Z",
        "limit": "200",
    }
    reply = httpx.get(f"{stack.base_url}/requests", params=params, headers=auth(stack))
    reply.raise_for_status()
    rows: list[dict[str, Any]] = reply.json()["data"]
    return rows


def logged(stack: Stack, generation_ids: set[str]) -> list[dict[str, Any]]:
    return [row for row in logged_today(stack) if row["generationId"] in generation_ids]


def ask_streaming(stack: Stack, text: str) -> tuple[str, Any]:
    """A streamed generation of ``PRICEY`` read to its end: its id and its usage."""
    chunks = list(
        client(stack).chat.completions.create(
            model=PRICEY,
            messages=[{"role": "user", "content": text}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens > 0
    return chunks[0].id, usage


def billed_once_across(suite: Stack, before: Callable[[], None], crash: Callable[[], None]) -> None:
    """A generation, ``before()``, a non-streaming and a streaming answer, ``crash()`` (which
    leaves the router and NATS dead); once both are restarted, each of the three generations
    is charged once and in the request log."""
    first = ask(suite, "warm up")  # billing knows the team, the router holds a lease
    charged_exactly(suite, [first])
    before()
    completion = ask(suite, "kept through a crash")
    streamed_id, streamed_usage = ask_streaming(suite, "streamed through a crash")
    crash()

    suite.respawn("nats")
    wait_for_port(suite.config.ports.nats)
    suite.respawn("router")
    wait_for_port(suite.config.ports.router)

    streamed = SimpleNamespace(id=streamed_id, usage=streamed_usage)
    total = charged_exactly(suite, [first, completion, streamed])
    assert settled(suite, total)["total_used"] == str(total)  # each charged once
    made = {first.id, completion.id, streamed_id}
    rows = eventually(lambda: r if len(r := logged(suite, made)) == 3 else None)
    assert sorted(r["generationId"] for r in rows) == sorted(made)


def killed(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait(timeout=30)


def test_answered_generations_are_billed_once_after_a_router_kill(suite: Stack) -> None:
    nats, router = suite.child("nats").process, suite.child("router").process

    def nats_down() -> None:  # no acknowledgement can come, no journal is needed to see it
        nats.terminate()
        nats.wait(timeout=30)

    billed_once_across(suite, nats_down, lambda: killed(router))  # right after both answers


@pytest.fixture
def patient_suite(upstream: Upstream, tmp_path: Path) -> Iterator[Stack]:
    """A router that waits 30 s for JetStream's acknowledgement before it writes a fact to
    its outbox table: within that, a fact is only in its journal (and its memory)."""
    env = {"TOLLGATE_ROUTER_FACT_ACK_TIMEOUT_SECONDS": "30"}
    with billing_suite(upstream, tmp_path, CATALOG, env) as running:
        yield running


def test_answers_wait_for_no_acknowledgement_and_survive_a_kill_of_router_and_nats(
    patient_suite: Stack,
) -> None:
    """NATS frozen (connected, reading nothing): the answers go out at once, their facts in the
    router's journal only — neither acknowledged nor in the table. The router and NATS are then
    killed with kill -9 (what the router had sent NATS, unread, is gone with it); the restarted
    router finds the facts in its predecessor's journal and both generations are billed once."""
    suite = patient_suite
    nats, router = suite.child("nats").process, suite.child("router").process
    left: set[Path] = set()

    def crash() -> None:
        killed(router)
        killed(nats)
        left.update((suite.config.data_dir / "router-journal").glob("*.journal"))

    billed_once_across(suite, lambda: freeze(nats), crash)
    assert left  # what the dead router left
    # Its facts stored in the table, the dead router's journal is deleted.
    eventually(lambda: not any(path.exists() for path in left))


def test_a_non_streaming_generation_whose_client_left_is_billed(
    suite: Stack, upstream: Upstream
) -> None:
    upstream.script(latency_ms=3000)  # the provider answers after the client gave up
    impatient = openai.OpenAI(
        base_url=suite.base_url, api_key=suite.bootstrap_key(), max_retries=0, timeout=1
    )
    with pytest.raises(openai.APITimeoutError):
        impatient.chat.completions.create(
            model=PRICEY, messages=[{"role": "user", "content": "a b c"}]
        )
    assert len(upstream.requests()) == 1  # the provider was called

    # The fake's usage: 3 prompt words; "Echo: a b c" is 4 completion tokens.
    cost = 3 * D("0.01") + 4 * D("0.1")
    account = settled(suite, cost)
    assert D(account["balance"]) == D(5) - cost
    [row] = eventually(lambda: logged_today(suite) or None)
    record = eventually(lambda: generation(suite, row["generationId"]))
    assert D(str(record["total_cost"])) == cost
    assert record["native_tokens_prompt"] == 3 and record["native_tokens_completion"] == 4


def test_a_stream_the_client_cut_is_billed_for_what_it_produced(
    suite: Stack, upstream: Upstream
) -> None:
    upstream.script(reply="one two three four five six seven eight", chunk_delay_ms=300)
    stream = client(suite).chat.completions.create(
        model=PRICEY, messages=[{"role": "user", "content": "a b c"}], stream=True
    )
    generation_id = ""
    for chunk in stream:
        generation_id = chunk.id
        if chunk.choices and chunk.choices[0].delta.content:
            break  # the first word arrived: the client goes away
    stream.close()

    record = eventually(lambda: generation(suite, generation_id))
    assert D(str(record["total_cost"])) > 0  # the prompt and the words produced
    assert record["finish_reason"] != "stop"
    assert D(credits(suite)["total_used"]) == D(str(record["total_cost"]))
    eventually(lambda: logged(suite, {generation_id}) or None)
