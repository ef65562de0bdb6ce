"""Holds and credit leases that survive: billing killed with kill -9 still counts a router's lease
when it comes back; a hold past its expiry stays while its usage facts cannot arrive (NATS down);
a lease whose router died is let go once its facts are in, and listed for the owner
(``GET /v1/credits/unsettled``, ``tollgate credits unsettled``).

``test/held`` is served by ``openai`` at $0.001 per input token and $0.01 per output token, at
most 10 output tokens: a worst case of about $0.11, so the $5 free grant pays for about fifty
generations, and billing (told to lease while a team can pay 5 worst cases) grants $1 leases.
What a team may still hold is read from billing's own answer to a reservation (``available``),
the figure the router works from.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import httpx
import openai
import pytest
from tollgate.billing.v1 import billing_pb2, billing_pb2_grpc
from tollgate_cli.stack import Stack

from tests.support.admin import AdminSuite, Secrets, new_tenant
from tests.support.api import auth, credits, generation
from tests.support.billing import billing_suite, priced_catalog
from tests.support.cli import ok
from tests.support.internal import as_caller
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

D = Decimal
HELD = "test/held"
IN_PRICE, OUT_PRICE = D("0.001"), D("0.01")
CATALOG = priced_catalog(
    HELD, "A model priced so that $5 pays for about fifty generations.", IN_PRICE, OUT_PRICE
)
LEASE = D(1)
PROBE = D("0.000001")  # what a probe reservation holds: one input token at $0.000001
LEASES = {
    "TOLLGATE_BILLING_LEASE_MIN_WORST_CASES": "5",
    "TOLLGATE_BILLING_LEASE_SHARE": "0.5",
    "TOLLGATE_ROUTER_CREDIT_LEASE": str(LEASE),
    "TOLLGATE_BILLING_HOLD_SWEEP_SECONDS": "0.3",
}


def _suite(upstream: Upstream, tmp_path: Path, env: dict[str, str]) -> Iterator[Stack]:
    upstream.script(latency_ms=5, times=1000)
    with billing_suite(upstream, tmp_path, CATALOG, {**LEASES, **env}) as running:
        yield running


@pytest.fixture
def restartable(upstream: Upstream, tmp_path: Path) -> Iterator[Stack]:
    yield from _suite(upstream, tmp_path, {})


@pytest.fixture
def short_holds(upstream: Upstream, tmp_path: Path) -> Iterator[Stack]:
    """Holds expire after 4 s; the router gives an idle lease back after about 2 s."""
    env = {
        "TOLLGATE_BILLING_HOLD_SECONDS": "4",
        "TOLLGATE_ROUTER_CREDIT_LEASE_SECONDS": "1.5",
    }
    yield from _suite(upstream, tmp_path, env)


@pytest.fixture
def expiring(upstream: Upstream, tmp_path: Path) -> Iterator[Stack]:
    """Holds expire after 3 s; a router keeps its lease for 30 s."""
    yield from _suite(upstream, tmp_path, {"TOLLGATE_BILLING_HOLD_SECONDS": "3"})


def _ask(stack: Stack, text: str) -> Any:
    api = openai.OpenAI(base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0)
    return api.chat.completions.create(model=HELD, messages=[{"role": "user", "content": text}])


def _cost(completion: Any) -> Decimal:
    usage = completion.usage
    return usage.prompt_tokens * IN_PRICE + usage.completion_tokens * OUT_PRICE


def _recorded(stack: Stack, completion: Any) -> Decimal:
    """Wait until billing has charged ``completion``; its cost."""
    record = eventually(lambda: generation(stack, completion.id))
    assert D(str(record["total_cost"])) == _cost(completion), record
    return _cost(completion)


def _team_id(stack: Stack) -> str:
    reply = httpx.get(f"{stack.base_url}/me", headers=auth(stack))
    reply.raise_for_status()
    return str(reply.json()["team"]["id"])


def _available(stack: Stack, team_id: str) -> Decimal:
    """What billing says the team may still hold, less a probe's hold (given back at once)."""
    with grpc.insecure_channel(f"127.0.0.1:{stack.config.ports.billing}") as channel:
        stub: Any = billing_pb2_grpc.BillingServiceStub(channel)
        hold_id = f"probe_{time.monotonic_ns()}"
        reply = stub.Reserve(
            billing_pb2.ReserveRequest(
                team_id=team_id,
                hold_id=hold_id,
                input_tokens=1,
                max_output_tokens=1,
                input_price=str(PROBE),
                output_price="0",
            ),
            timeout=10,
            metadata=as_caller(stack, "router"),  # as the router asks for holds
        )
        assert D(reply.reserved) == PROBE
        stub.Release(
            billing_pb2.ReleaseRequest(team_id=team_id, hold_id=hold_id),
            timeout=10,
            metadata=as_caller(stack, "router"),
        )
    return D(reply.available) + PROBE


def _billing_serving(stack: Stack, team_id: str) -> bool:
    try:
        _available(stack, team_id)
    except grpc.RpcError:
        return False
    return True


def _unsettled(stack: Stack) -> list[dict[str, Any]]:
    reply = httpx.get(f"{stack.base_url}/credits/unsettled", headers=auth(stack))
    reply.raise_for_status()
    data: list[dict[str, Any]] = reply.json()["data"]
    return data


def _balance(stack: Stack) -> Decimal:
    return D(credits(stack)["balance"])


def test_billing_killed_with_kill_9_still_counts_a_routers_lease(restartable: Stack) -> None:
    stack = restartable
    first = _ask(stack, "before the crash")  # the router takes a $1 lease for it
    spent = _recorded(stack, first)
    team_id = _team_id(stack)
    assert _available(stack, team_id) == _balance(stack) - (LEASE - spent)

    billing = stack.child("billing").process
    billing.kill()
    billing.wait()
    stack.respawn("billing")
    eventually(lambda: _billing_serving(stack, team_id))
    eventually(lambda: credits(stack))  # the edge has reconnected to it

    # The lease the router still draws from is held as before: nobody may hold it again.
    assert _available(stack, team_id) == _balance(stack) - (LEASE - spent)

    # And no request is admitted beyond the balance: spend it down until billing says no.
    served = [first]
    with pytest.raises(openai.APIStatusError) as refusal:  # noqa: PT012 - a loop that ends in one
        for i in range(200):
            served.append(_ask(stack, f"after the crash {i}"))
    assert refusal.value.status_code == 402, "$5 does not pay for 200 generations"
    total = sum((_recorded(stack, c) for c in served), D(0))
    balance = eventually(lambda: _balance(stack) if D(5) - _balance(stack) == total else None)
    assert balance >= 0
    worst = 14 * IN_PRICE + 10 * OUT_PRICE
    assert balance < worst  # no hold kept money back once every lease was given back


def test_a_hold_past_its_expiry_stays_until_its_usage_facts_are_applied(
    short_holds: Stack,
) -> None:
    stack = short_holds
    team_id = _team_id(stack)
    spent = _recorded(stack, _ask(stack, "before NATS goes"))

    nats = stack.child("nats").process
    nats.kill()
    nats.wait()
    pending = _cost(_ask(stack, "while NATS is down"))  # its usage fact cannot be published
    # The router gives its lease back (spent: both generations) and the hold's expiry passes;
    # billing cannot know that the second fact is applied, so it keeps holding its cost.
    time.sleep(8)
    assert _balance(stack) == D(5) - spent
    assert _available(stack, team_id) == D(5) - spent - pending

    stack.respawn("nats")
    eventually(lambda: D(credits(stack)["total_used"]) == spent + pending)
    # Charged once, held no more: the money moved from the hold to the balance.
    assert eventually(lambda: _available(stack, team_id) == D(5) - spent - pending)
    assert _unsettled(stack) == []  # the router gave its lease back: nothing to reconcile


def test_the_lease_of_a_router_killed_with_kill_9_is_listed_unsettled(expiring: Stack) -> None:
    stack = expiring
    team_id = _team_id(stack)
    completion = _ask(stack, "the router dies after this one")
    spent = _recorded(stack, completion)
    router = stack.child("router").process
    router.kill()
    router.wait()

    [hold] = eventually(lambda: _unsettled(stack))
    assert hold["teamId"] == team_id
    assert (D(hold["reserved"]), D(hold["debited"]), D(hold["held"])) == (
        LEASE,
        spent,
        LEASE - spent,
    )
    assert hold["expiredAt"] >= hold["expiresAt"] > hold["createdAt"]
    # Its money is the team's again: nothing holds it.
    assert _available(stack, team_id) == D(5) - spent

    [listed] = ok(stack, "credits", "unsettled")
    assert (listed["holdId"], listed["debited"]) == (hold["holdId"], hold["debited"])
    stack.respawn("router")

    # Another team's owner sees only their own team's, and not every team's (operators only);
    # members and viewers may not look.
    tenant = new_tenant(AdminSuite(stack, "sqlite", Secrets()), "unsettled")
    assert tenant.owner.ok("GET", "/v1/credits/unsettled") == {"data": []}
    for api, path in (
        (tenant.owner, "/v1/credits/unsettled?allTeams=true"),
        (tenant.member, "/v1/credits/unsettled"),
        (tenant.viewer, "/v1/credits/unsettled"),
    ):
        refused = api.call("GET", path)
        assert refused.status_code == 403
        assert refused.json()["error"]["type"] == "forbidden"
    # The operator (the bootstrap key) sees every team's from wherever it stands.
    every = httpx.get(
        f"{stack.base_url}/credits/unsettled", params={"allTeams": "true"}, headers=auth(stack)
    )
    assert [h["holdId"] for h in every.json()["data"]] == [hold["holdId"]]
