"""Credits through the whole suite: the free tier, top-ups, generation lookup, hard limits under
concurrency (402 before any upstream call), and every generation charged exactly once while
billing or NATS is restarted.

Each test runs its own suite (the bootstrap team's balance is the thing under test), in front
of the session's fake OpenAI upstream, with a catalog override adding ``test/pricey``: served by
``openai`` at $0.01 per input token and $0.10 per output token, at most 10 output tokens, so the
$5 free grant covers a handful of generations.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from tollgate_cli.stack import Stack
from tollgate_common.testing import wait_for_port

from tests.support.api import auth, credits, generation
from tests.support.billing import (
    CATALOG,
    PRICEY,
    ask,
    billing_suite,
    charged_exactly,
    concurrent_asks,
    settled,
)
from tests.support.internal import from_envoy
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

D = Decimal


@pytest.fixture
def suite(upstream: Upstream, tmp_path: Path) -> Iterator[Stack]:
    with billing_suite(upstream, tmp_path, CATALOG) as running:
        yield running


def respawn(stack: Stack, name: str) -> Callable[[], None]:
    """Stop the child ``name`` (SIGTERM); the returned function starts it again."""
    [child] = [c for c in stack.children if c.name == name]
    child.process.send_signal(signal.SIGTERM)
    child.process.wait(timeout=30)
    argv = [str(a) for a in child.process.args]  # type: ignore[union-attr]

    def start() -> None:
        log = child.log_path.open("ab")
        process = subprocess.Popen(
            argv,
            env=child.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        child.process, child.log_file = process, log

    return start


# -- credits, the free tier, top-ups --------------------------------------------------------------


def test_free_tier_top_up_and_generation_cost(suite: Stack, upstream: Upstream) -> None:
    assert credits(suite) == {"balance": "0.00", "total_used": "0.00"}  # no request yet

    completion = ask(suite)
    cost = charged_exactly(suite, [completion])
    assert settled(suite, cost) == {"balance": str(D(5) - cost), "total_used": str(cost)}
    record = generation(suite, completion.id)
    assert record is not None and record["is_byok"] is False
    assert D(str(record["upstream_inference_cost"])) == cost  # list price, zero markup

    url = f"{suite.base_url}/credits/top-up"
    reply = httpx.post(url, json={"amount": "10.50"}, headers=auth(suite))
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"balance": str(D("15.50") - cost), "total_used": str(cost)}
    reply = httpx.post(url, json={"amount": 2}, headers=auth(suite))  # a JSON number
    assert reply.json()["balance"] == str(D("17.50") - cost)

    for bad in ("1.001", "-1", "0", "abc", True, None, [], "1e12"):
        reply = httpx.post(url, json={"amount": bad}, headers=auth(suite))
        assert reply.status_code == 400, bad
        assert reply.json()["error"]["type"] == "invalid_request_error"
        assert reply.json()["error"]["param"] == "amount"
    reply = httpx.post(url, content=b"not json", headers=auth(suite))
    assert reply.status_code == 400
    assert credits(suite)["balance"] == str(D("17.50") - cost)  # nothing changed

    today = dt.datetime.now(dt.UTC).date().isoformat()
    reply = httpx.get(
        f"{suite.base_url}/report",
        params={"start_date": today, "end_date": today, "group_by": "model"},
        headers=auth(suite),
    )
    assert reply.status_code == 200, reply.text
    [row] = reply.json()["results"]
    assert row["model"] == PRICEY and row["request_count"] == 1
    assert D(str(row["total_cost"])) == cost
    for bad in ({"group_by": "colour"}, {"date_part": "minute"}, {"end_date": "yesterday"}):
        params = {"start_date": today, "end_date": today, **bad}
        reply = httpx.get(f"{suite.base_url}/report", params=params, headers=auth(suite))
        assert reply.status_code == 400, bad
        assert reply.json()["error"]["param"] in bad


def test_only_an_operator_may_top_up_whatever_the_headers_claim(stack: Stack) -> None:
    # The session's suite will do (no balance changes): straight to the edge with the identity
    # headers Envoy would add (and its token) for an owner / member / viewer of a team of its
    # own, even claiming the operator privilege: the auth service reads it from its database,
    # and user_x has none.
    edge = f"http://127.0.0.1:{stack.config.ports.edge}/v1"
    identity = {"x-tollgate-team-id": "team_x", "x-tollgate-user-id": "user_x", **from_envoy(stack)}
    claims = {"x-tollgate-operator": "true", "x-tollgate-permissions": "credits:top-up"}
    for role in ("owner", "member", "viewer"):
        for claimed in ({}, claims):
            headers = {**identity, "x-tollgate-role": role, **claimed}
            reply = httpx.post(f"{edge}/credits/top-up", json={"amount": "5"}, headers=headers)
            assert reply.status_code == 403, reply.text
            assert reply.json()["error"]["type"] == "forbidden"
        reply = httpx.get(f"{edge}/credits", headers=headers)
        assert reply.json() == {"balance": "0.00", "total_used": "0.00"}
    # Through Envoy a client cannot claim a role: the headers are replaced.
    forged = {**identity, "x-tollgate-role": "owner", **claims}
    assert httpx.get(f"{stack.base_url}/credits", headers=forged).status_code == 401


# -- hard limits --------------------------------------------------------------------------------


def test_concurrent_requests_never_overdraw_and_402_sends_nothing_upstream(
    suite: Stack, upstream: Upstream
) -> None:
    first = ask(suite)  # the first request starts the free tier
    upstream.reset()
    upstream.script(latency_ms=300, times=200)  # all 200 in flight together

    served, refused = asyncio.run(concurrent_asks(suite, 200))

    assert served, "the balance covers a few"
    assert len(served) < 10
    assert {e.status_code for e in refused} == {402}
    body = refused[0].body
    assert isinstance(body, dict) and body["type"] == "insufficient_funds"
    assert len(upstream.requests()) == len(served)  # nothing sent upstream for a 402
    total = charged_exactly(suite, [first, *served])
    account = settled(suite, total)
    assert D(account["balance"]) >= 0
    assert D(account["balance"]) + D(account["total_used"]) == D(5)


# -- exactly once -------------------------------------------------------------------------------


def test_billing_down_then_restarted_charges_every_generation_once(suite: Stack) -> None:
    served = [ask(suite, "a")]  # billing knows the team; the router knows its balance
    charged_exactly(suite, served)
    start_billing = respawn(suite, "billing")
    served += [ask(suite, f"w{i}") for i in range(3)]  # admitted on the last-known balance
    start_billing()
    total = charged_exactly(suite, served)
    account = settled(suite, total)
    assert D(account["balance"]) == D(5) - total


def test_nats_restarted_mid_load_loses_nothing(suite: Stack, upstream: Upstream) -> None:
    httpx.post(
        f"{suite.base_url}/credits/top-up", json={"amount": "100"}, headers=auth(suite)
    ).raise_for_status()
    served: list[Any] = []
    stop = threading.Event()

    def load() -> None:
        i = 0
        while not stop.is_set():
            served.append(ask(suite, f"n{i}", model="openai/gpt-4o-mini"))
            i += 1

    worker = threading.Thread(target=load)
    worker.start()
    try:
        eventually(lambda: len(served) >= 3)
        start_nats = respawn(suite, "nats")
        eventually(lambda: len(served) >= 8)  # served while NATS is down
        start_nats()
        wait_for_port(suite.config.ports.nats)
        eventually(lambda: len(served) >= 14)
    finally:
        stop.set()
        worker.join(timeout=60)
    for completion in served:
        eventually(lambda c=completion: generation(suite, c.id))
    records = [generation(suite, c.id) for c in served]
    total = sum((D(str(r["total_cost"])) for r in records if r), D(0))
    account = settled(suite, total)
    # Bought before its first request: the team never starts on the free tier.
    assert D(account["balance"]) == D(100) - total
