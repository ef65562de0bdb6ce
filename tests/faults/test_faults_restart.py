"""A graceful restart of the router (SIGTERM, as a rolling update sends) with non-streaming
generations in flight: the edge carries them on long-lived streams to the router
(docs/internal-contracts.md, "Generations"), so the stopping router must tell the edge to send
nothing more on them and still answer what it had received. Every generation in flight gets its
whole answer and is billed once; once the router is back, requests are served again without
touching the edge."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import openai
from tollgate_cli.stack import Stack

from tests.faults.harness import new_team, on_sqlite, pace, restart
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

IN_FLIGHT = 6
HELD_MS = 2500


@on_sqlite
def test_a_router_restarted_gracefully_answers_the_generations_it_had(
    faults_stack: Stack, upstream: Upstream
) -> None:
    team = new_team(faults_stack, Decimal(100), Decimal(50))
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{faults_stack.config.ports.public}/v1",
        api_key=team.key,
        max_retries=0,
        timeout=60,
    )

    def ask(i: int) -> openai.types.chat.ChatCompletion:
        return client.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": f"question {i}"}]
        )

    pace(upstream, held=IN_FLIGHT, held_ms=HELD_MS)
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        asked = [pool.submit(ask, i) for i in range(IN_FLIGHT)]
        eventually(lambda: len(upstream.requests()) >= IN_FLIGHT)  # all at the provider
        router = faults_stack.child("router").process
        router.send_signal(signal.SIGTERM)
        answers = [future.result() for future in asked]
    assert router.wait(timeout=60) == 0  # it stopped cleanly, after answering

    assert sorted(a.choices[0].message.content or "" for a in answers) == sorted(
        f"Echo: question {i}" for i in range(IN_FLIGHT)
    )
    billed = eventually(lambda: all(team.generation(a.id) for a in answers) or None)
    assert billed
    rows = [team.generation(a.id) for a in answers]
    assert all(row is not None and Decimal(str(row["total_cost"])) > 0 for row in rows)

    restart(faults_stack, "router")

    def served() -> openai.types.chat.ChatCompletion | None:
        try:
            return ask(IN_FLIGHT)
        except openai.APIStatusError as exc:
            if exc.status_code not in (502, 503):  # a lane to the stopped router, at most
                raise
            return None

    after = eventually(served)
    assert after.choices[0].message.content == f"Echo: question {IN_FLIGHT}"
