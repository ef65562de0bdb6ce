"""Money survives kill -9: under a mixed load of official ``openai`` clients (streaming and
non-streaming chat completions, embeddings), one process of the suite is SIGKILLed and started
again (the router, billing, activity, NATS, the edge), or all of them at once, or billing's and
activity's databases refuse writes for longer than a fact's old delivery budget. Afterwards,
once the fact path has drained, every generation whose response completed is billed exactly
once at its exact cost and is in the request log, ``total_used`` grew by exactly what was
billed, and neither the balance nor the key's hard budget was overrun (``harness.check_money``).

Each test works in a team of its own on the module's suite (``conftest.py``), so what one fault
leaves behind cannot be counted in another test's money.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from tollgate_cli.stack import Stack

from tests.faults.harness import (
    check_money,
    database_outage,
    kill,
    kill_everything,
    new_team,
    on_both_databases,
    on_sqlite,
    pace,
    restart,
    stalled,
    summary,
)
from tests.faults.load import Load
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

D = Decimal
FUNDS = D(1000)  # money is not the limit, except where a test says so
BUDGET = D(100)
# Consumers redelivered a fact at most 50 times, 2 s apart: an outage longer than that dropped it.
OUTAGE_SECONDS = 50 * 2.0 + 5


@on_sqlite
@pytest.mark.parametrize("name", ["router", "activity", "nats", "edge"])
def test_kill9_of_one_process_mid_load_bills_every_completed_generation_once(
    faults_stack: Stack, name: str
) -> None:
    team = new_team(faults_stack, FUNDS, BUDGET)
    with Load(team) as load:
        load.wait_completed(8)
        kill(faults_stack, name)
        load.wait_completed(8)
    print(name, summary(load.attempts))
    check_money(team, load.attempts)


@on_sqlite
def test_kill9_of_the_router_while_nats_is_stalled_loses_no_fact(faults_stack: Stack) -> None:
    # With JetStream not answering, the facts of the generations served meanwhile wait in the
    # router for their acknowledgement (up to the outbox's publish timeout): the router dies
    # with them in hand, the moment a kill -9 can otherwise only hit by chance.
    team = new_team(faults_stack, FUNDS, BUDGET)
    with Load(team) as load:
        load.wait_completed(8)
        router = faults_stack.child("router").process
        with stalled(faults_stack, "nats"):
            load.wait_completed(8)  # served; their facts not yet acknowledged
            router.kill()
            router.wait(timeout=30)
        restart(faults_stack, "router")
        load.wait_completed(8)
    print(summary(load.attempts))
    check_money(team, load.attempts)


@on_both_databases
def test_kill9_of_billing_while_leases_are_out_keeps_the_budget(faults_stack: Stack) -> None:
    # $1.50 pays for ~135 generations; while more than 100 worst cases are left the router
    # draws from a credit lease, below that every generation holds its own worst case.
    team = new_team(faults_stack, FUNDS, D("1.50"))
    with Load(team) as load:
        load.wait_completed(10)  # leases are out
        kill(faults_stack, "billing")
        # Served or refused: the budget may be spent by now (the router admits what billing
        # last said was left while billing is away).
        after = len(load.attempts) + 20
        load.wait_for(lambda a: len(a) >= after, "20 more requests answered", 60)
    print(summary(load.attempts))
    check_money(team, load.attempts)


@on_both_databases
def test_kill9_of_billing_while_holds_are_out_near_the_cap_keeps_the_budget(
    faults_stack: Stack, upstream: Upstream
) -> None:
    # $0.40 pays for ~36 generations, too few for a lease: each holds its own worst case.
    team = new_team(faults_stack, FUNDS, D("0.40"))
    with Load(team, workers=2) as warm:
        warm.wait_completed(4)  # the router has reserved for the team before
    # Six generations hold their worst cases while the provider takes its time (nothing else
    # is asked meanwhile, so no request is admitted without billing), and billing dies and
    # comes back before they end: their holds must still count once it is back. The provider
    # holds them longer than billing takes to come back and the router to reach it again (its
    # gRPC channel's reconnect backoff: 10-15 s after the kill here).
    pace(upstream, held=6, held_ms=25_000)
    try:
        with Load(team, workers=6) as held:
            eventually(lambda: len(upstream.requests()) >= 6, timeout=30)
            kill(faults_stack, "billing")
            with Load(team) as rest:
                rest.wait_for(
                    lambda a: sum(x.status == 402 for x in a) >= 20,
                    "the key's budget refusing",
                    120,
                )
                held.wait_for(lambda a: len(a) > 6, "the held generations ended", 60)
    finally:
        pace(upstream)
    attempts = warm.attempts + held.attempts + rest.attempts
    print(summary(attempts))
    refused = [a for a in attempts if a.status == 402]
    assert all("budget_exceeded" in a.error for a in refused), refused[0].error
    check_money(team, attempts)


@on_both_databases
def test_kill9_of_every_process_at_once_then_restart_on_the_same_data(
    faults_stack: Stack,
) -> None:
    # The balance is the limit here: $0.60 pays for ~55 generations.
    team = new_team(faults_stack, D("0.60"), BUDGET)
    with Load(team) as load:
        load.wait_completed(24)
        kill_everything(faults_stack)
        load.wait_for(lambda a: sum(x.status == 402 for x in a) >= 20, "the balance refusing", 120)
    print(summary(load.attempts))
    refused = [a for a in load.attempts if a.status == 402]
    assert all("insufficient_funds" in a.error for a in refused), refused[0].error
    check_money(team, load.attempts)


@on_both_databases
def test_a_database_outage_longer_than_the_delivery_budget_loses_no_fact(
    faults_stack: Stack,
) -> None:
    team = new_team(faults_stack, FUNDS, BUDGET)
    with Load(team) as load:
        load.wait_completed(4)  # billing knows the team's budget before its database goes
        with database_outage(faults_stack, ("billing", "activity")):
            load.wait_completed(20)
            load.stop()
            # The facts of those generations wait, undeliverable, for the whole outage.
            time.sleep(OUTAGE_SECONDS)
    print(summary(load.attempts))
    check_money(team, load.attempts)
