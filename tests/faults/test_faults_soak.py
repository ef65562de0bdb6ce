"""The soak: under the mixed load, one process of the suite is SIGKILLed every few seconds for
90 seconds (and until each has been killed once), each in turn (the router, billing, activity,
the edge, auth, NATS), and started again. The gateway answers throughout: a request fails only if it was in flight while a process
was down (from its kill until it serves again); every request begun once the killed process
serves again completes. Afterwards the money checks of the kill tests hold."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

import pytest
from tollgate_cli.stack import Stack

from tests.faults.harness import check_money, kill, new_team, on_sqlite, summary
from tests.faults.load import Attempt, Load

SOAK_SECONDS = 90.0
VICTIMS = ("router", "billing", "activity", "edge", "auth", "nats")
SERVING_SECONDS = 3.0  # between one process serving again and the next kill


def _during(attempt: Attempt, outages: list[tuple[float, float, str]]) -> str | None:
    """The process that was down while ``attempt`` was in flight, if any."""
    for down, up, name in outages:
        if attempt.started <= up and attempt.ended >= down:
            return name
    return None


@on_sqlite
@pytest.mark.timeout(900)  # restarts are slow on a busy machine; the soak waits for each
def test_a_kill_every_few_seconds_fails_only_the_requests_in_flight_through_it(
    faults_stack: Stack,
) -> None:
    team = new_team(faults_stack, Decimal(1000), Decimal(100))
    outages: list[tuple[float, float, str]] = []
    with Load(team) as load:
        load.wait_completed(8)
        end = time.monotonic() + SOAK_SECONDS
        for name in itertools.cycle(VICTIMS):
            if time.monotonic() >= end and len(outages) >= len(VICTIMS):
                break
            down = time.monotonic()
            kill(faults_stack, name)  # returns once the process serves again
            outages.append((down, time.monotonic(), name))
            time.sleep(SERVING_SECONDS)
        load.wait_completed(8)
    downtimes = ", ".join(f"{name} {up - down:.1f} s" for down, up, name in outages)
    print(f"{len(outages)} kills (down until serving again: {downtimes});", summary(load.attempts))
    failed = [a for a in load.attempts if a.ended and not a.completed]
    unexplained = [a for a in failed if _during(a, outages) is None]
    assert not unexplained, (
        f"{len(unexplained)} of {len(failed)} failed requests were not in flight while a "
        f"process was down, e.g. {unexplained[0].kind}: {unexplained[0].status} "
        f"{unexplained[0].error}"
    )
    check_money(team, load.attempts)
