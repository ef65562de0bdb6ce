"""The fault suite's harness: a team funded for the test (the load it carries is in
``load.py``), the faults themselves (SIGKILL of one process, of every process at once, a
database held locked), and the money invariants checked afterwards through the public API.

A request is **completed** when the client got all of it: a non-streaming answer with its usage,
or a stream that ended with ``[DONE]`` after a usage chunk. Only completed requests are promised
to be billed; a request the client saw fail may or may not have been (a stream cut after its
first tokens is charged for what it produced), so the checks count it when billing has it and
require nothing of it otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import nats
import nats.js.errors
import pytest
from tollgate_cli.stack import Stack

from tests.support.billing import priced_catalog
from tests.support.polling import eventually

if TYPE_CHECKING:
    from tests.faults.load import Attempt
from tests.support.upstreams import Upstream

D = Decimal
CHAT_MODEL = "fault/chat"
EMBED_MODEL = "fault/embed"
CHAT_IN, CHAT_OUT = D("0.0001"), D("0.001")
EMBED_IN = D("0.001")
# A prompt of nine words: the fake echoes it in ten words, the model's output limit, so a
# generation costs about its worst case and a budget runs out after a known number of them.
PROMPT = "a b c d e f g h"
CATALOG: dict[str, Any] = {
    "models": [
        *priced_catalog(
            CHAT_MODEL, "Priced so that a budget of a dollar or two runs out.", CHAT_IN, CHAT_OUT
        )["models"],
        {
            "id": EMBED_MODEL,
            "name": "Fault suite embedding model",
            "creator": "test",
            "type": "embedding",
            "description": "Priced per input token like the chat model.",
            "context_window": 8192,
            "max_output_tokens": None,
            "dimensions": 1536,
            "input_modalities": ["text"],
            "output_modalities": [],
            "released": "2026-01-01",
            "providers": [
                {
                    "provider": "openai",
                    "provider_model_id": "text-embedding-3-small",
                    "pricing": {"input": str(EMBED_IN), "output": "0"},
                }
            ],
        },
    ]
}
# The fake provider's pace: long enough that every kill finds requests in flight, short enough
# that the tier stays within a few minutes.
LATENCY_MS = 150
CHUNK_DELAY_MS = 40
# How long the fact path may take to drain after a fault: a consumer that died holding a batch
# gets it again after JetStream's ack wait (30 s).
DRAIN_SECONDS = 90.0
USAGE_STREAM = "TOLLGATE_USAGE"


def pace(upstream: Upstream, held: int = 0, held_ms: int = 0) -> None:
    """The fake answers the next ``held`` requests after ``held_ms``, then every one at the
    fault suite's pace (forgetting what it recorded)."""
    upstream.reset()
    if held:
        upstream.script(times=held, latency_ms=held_ms)
    upstream.script(times=10_000_000, latency_ms=LATENCY_MS, chunk_delay_ms=CHUNK_DELAY_MS)


# The tests whose outcome depends on the database run on SQLite and on PostgreSQL, the others
# on SQLite only (conftest.py says why); both share the module's SQLite stack.
on_both_databases = pytest.mark.parametrize(
    "faults_stack",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
on_sqlite = pytest.mark.parametrize("faults_stack", ["sqlite"], indirect=True)


# -- the team under test -----------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    """A team of its own for one test: its owner key (made with the bootstrap key), funded by
    ``funds``, with a hard daily budget of ``budget`` on that key."""

    stack: Stack
    team_id: str
    key: str
    key_id: str
    funds: Decimal
    budget: Decimal

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        origin = f"http://127.0.0.1:{self.stack.config.ports.public}"
        headers = {"authorization": f"Bearer {self.key}"}
        return httpx.request(method, origin + path, headers=headers, timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.call(method, path, **kwargs)
        assert reply.status_code < 300, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else None

    def generation(self, generation_id: str) -> dict[str, Any] | None:
        """Billing's record of a generation; None while it has none (or is restarting)."""
        reply = self.call("GET", "/v1/generation", params={"id": generation_id})
        if reply.status_code in (404, 502, 503):
            return None
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()["data"]
        return data

    def request_log(self) -> dict[str, dict[str, Any]]:
        """The team's request log (activity's read model), generation id → row."""
        rows: dict[str, dict[str, Any]] = {}
        cursor = ""
        while True:
            params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            page = self.ok("GET", "/v1/requests", params=params)
            rows.update((row["generationId"], row) for row in page["data"])
            cursor = page.get("nextCursor") or ""
            if not cursor:
                return rows

    def credits(self) -> tuple[Decimal, Decimal]:
        """(balance, total_used)."""
        found = self.ok("GET", "/v1/credits")
        return D(found["balance"]), D(found["total_used"])

    def budget_row(self) -> dict[str, Any]:
        [row] = [b for b in self.ok("GET", "/v1/budgets")["data"] if b["id"] == self.key_id]
        return dict(row)


def new_team(stack: Stack, funds: Decimal, budget: Decimal) -> Team:
    """A new team whose owner key has a hard daily ``budget``, topped up by ``funds``."""
    bootstrap = {"authorization": f"Bearer {stack.bootstrap_key()}"}
    origin = f"http://127.0.0.1:{stack.config.ports.public}"
    slug = f"faults-{uuid.uuid4().hex[:10]}"
    reply = httpx.post(
        f"{origin}/v1/teams", json={"slug": slug, "name": "Faults"}, headers=bootstrap
    )
    assert reply.status_code == 201, reply.text
    team_id = reply.json()["id"]
    reply = httpx.post(
        f"{origin}/v1/api-keys", json={"name": "load", "teamId": team_id}, headers=bootstrap
    )
    assert reply.status_code == 201, reply.text
    created = reply.json()
    team = Team(stack, team_id, created["key"], created["id"], funds, budget)
    team.ok("POST", "/v1/credits/top-up", json={"amount": str(funds)})
    team.ok("PUT", f"/v1/budgets/key/{team.key_id}", json={"amount": str(budget), "period": "day"})
    return team


# -- the faults --------------------------------------------------------------------------------


def _public_ready(stack: Stack) -> bool:
    try:
        reply = httpx.get(f"http://127.0.0.1:{stack.config.ports.public}/readyz", timeout=2)
    except httpx.HTTPError:
        return False
    return reply.status_code == 200


def ready(stack: Stack, name: str) -> None:
    """Wait (bounded) until the restarted ``name`` serves: its port takes connections (so the
    edge's readiness, cached for a second, is not the dead process's) and the suite answers
    ``/readyz`` (the edge asks each service's gRPC health)."""
    port = getattr(stack.config.ports, name)

    def serving() -> bool:
        stack.check_alive()
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            time.sleep(1)  # past the edge's cached answer from before the kill
            return _public_ready(stack)
        return False

    eventually(serving, timeout=90)


def kill(stack: Stack, name: str, down_seconds: float = 0.5) -> None:
    """SIGKILL ``name`` mid-flight, leave it down ``down_seconds``, start it again, wait."""
    child = stack.child(name)
    child.process.kill()
    child.process.wait(timeout=30)
    time.sleep(down_seconds)
    restart(stack, name)


def restart(stack: Stack, name: str) -> None:
    """Start the dead ``name`` again and wait until it serves."""
    stack.respawn(name)
    ready(stack, name)


@contextlib.contextmanager
def stalled(stack: Stack, name: str) -> Iterator[None]:
    """``name`` frozen (SIGSTOP) while the block runs, as a process that stops answering
    without closing its connections (a long pause, a partition) — then thawed (SIGCONT)."""
    process = stack.child(name).process
    process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.send_signal(signal.SIGCONT)


def kill_everything(stack: Stack) -> None:
    """SIGKILL every process of the suite at once (as when the machine or the container goes),
    then start the suite again on the same data directory and ports."""
    for child in stack.children:
        child.process.kill()
    for child in stack.children:
        child.process.wait(timeout=30)
    stack.stop()  # closes the logs of the dead children
    stack.start()


@contextlib.contextmanager
def database_outage(stack: Stack, services: tuple[str, ...]) -> Iterator[None]:
    """The databases of ``services`` are out while the block runs. On SQLite an exclusive lock
    on each file: every write waits out the busy timeout, then fails. On PostgreSQL the
    database refuses connections and its open ones are cut: every statement fails at once."""
    urls = {s: stack.config.env.get(f"TOLLGATE_{s.upper()}_DATABASE_URL", "") for s in services}
    release = threading.Event()
    locked = threading.Barrier(len(services) + 1, timeout=60)
    threads = [
        threading.Thread(
            target=_hold_postgres if url else _hold_sqlite,
            args=(url or str(stack.config.data_dir / f"{service}.db"), locked, release),
            daemon=True,
        )
        for service, url in urls.items()
    ]
    for thread in threads:
        thread.start()
    locked.wait()
    try:
        yield
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)


def _hold_sqlite(path: str, locked: threading.Barrier, release: threading.Event) -> None:
    connection = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        locked.wait()
        release.wait()
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def _hold_postgres(url: str, locked: threading.Barrier, release: threading.Event) -> None:
    """The database refuses connections and loses those it had: every statement of the
    service fails at once, as with a database server that is down."""
    import asyncpg
    from sqlalchemy.engine import make_url

    target = make_url(url)
    server = target.set(drivername="postgresql", database="postgres")
    name = target.database

    async def hold() -> None:
        connection = await asyncpg.connect(server.render_as_string(hide_password=False))
        try:
            await connection.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                name,
            )
            locked.wait()
            await asyncio.get_running_loop().run_in_executor(None, release.wait)
        finally:
            await connection.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await connection.close()

    asyncio.run(hold())


# -- the invariants ----------------------------------------------------------------------------


def check_money(team: Team, attempts: list[Attempt]) -> dict[str, Decimal]:
    """Once the fact path has drained: every completed generation billed once at its exact cost
    and in the request log; ``total_used`` grew by exactly the billed generations' costs; the
    balance is what was put in minus that; nothing below the balance's or the budget's limit.
    Returns the billed generations' costs."""
    completed = [a for a in attempts if a.completed]
    assert completed, "no request completed: the load never ran"

    # 1. Billing has a record of every completed generation (bounded poll; names what is lost).
    records: dict[str, dict[str, Any]] = {}

    def all_billed() -> bool:
        for attempt in completed:
            gid = attempt.generation_id
            assert gid is not None
            if gid not in records and (found := team.generation(gid)) is not None:
                records[gid] = found
        return all(a.generation_id in records for a in completed)

    _bounded(all_billed, lambda: _missing(team, completed, records, "never billed"))
    wrong = [
        (a.generation_id, str(records[a.generation_id]["total_cost"]), str(a.expected_cost()))
        for a in completed
        if a.generation_id and D(str(records[a.generation_id]["total_cost"])) != a.expected_cost()
    ]
    assert not wrong, f"generations billed at another cost than usage times price: {wrong[:5]}"

    # 2. Every completed generation is in the request log.
    log: dict[str, dict[str, Any]] = {}

    def all_logged() -> bool:
        log.update(team.request_log())
        return all(a.generation_id in log for a in completed)

    _bounded(all_logged, lambda: _missing(team, completed, log, "not in the request log"))

    # 3. The billed set: the completed ones, the failed ones billing has (a stream cut after
    #    its first tokens), and whatever else the request log shows.
    for gid in {a.generation_id for a in attempts if a.generation_id} | set(log):
        if gid not in records and (found := team.generation(gid)) is not None:
            records[gid] = found
    costs = {gid: D(str(record["total_cost"])) for gid, record in records.items()}
    billed = sum(costs.values(), D(0))

    # 4. total_used grew by exactly what was billed, once each (a second charge of any
    #    generation, or a charge no record explains, shows here).
    def settled() -> bool:
        return team.credits()[1] == billed

    _bounded(
        settled,
        lambda: (
            f"total_used {team.credits()[1]} != {billed}, the sum of the "
            f"{len(costs)} billed generations (difference {team.credits()[1] - billed})"
        ),
    )
    balance, total_used = team.credits()
    assert balance == team.funds - total_used, (balance, team.funds, total_used)
    assert balance >= 0, f"the balance went below zero: {balance}"

    # 5. Nothing was served past the key's hard budget (by the generations' records, and by
    #    the budget as billing reports it).
    row = team.budget_row()
    assert billed <= team.budget and D(row["spent"]) <= D(row["amount"]), (
        f"served past the key's hard budget of {team.budget}: the {len(costs)} billed "
        f"generations cost {billed}; the budget reads {row}"
    )
    return costs


def fact_path(stack: Stack, generation_ids: set[str | None]) -> str:
    """Where the usage facts of ``generation_ids`` are, for a failure's message: how many of
    them JetStream holds, and the state of the two usage consumers. A fact JetStream never got
    died in its producer; one it holds that a consumer is done with, the consumer dropped.
    Read from NATS directly: no API shows the fact path."""

    async def look() -> str:
        connection = await nats.connect(stack.nats_url)
        try:
            js = connection.jetstream()
            info = await js.stream_info(USAGE_STREAM)
            held = 0
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                with contextlib.suppress(nats.js.errors.NotFoundError):
                    message = await js.get_msg(USAGE_STREAM, seq)
                    held += (message.headers or {}).get("Nats-Msg-Id") in generation_ids
            consumers = []
            for durable in ("billing-usage", "activity-usage"):
                state = await js.consumer_info(USAGE_STREAM, durable)
                consumers.append(
                    f"{durable}: {state.num_pending} pending, {state.num_ack_pending} unacked, "
                    f"{state.num_redelivered} redelivered"
                )
        finally:
            await connection.close()
        return (
            f"JetStream holds {held} of these {len(generation_ids)} facts "
            f"({info.state.messages} usage facts in all); " + "; ".join(consumers)
        )

    try:
        return asyncio.run(look())
    except Exception as error:  # a diagnosis must not hide the failure it explains
        return f"(the fact path could not be read: {error!r})"


def _missing(
    team: Team, completed: list[Attempt], found: dict[str, dict[str, Any]], what: str
) -> str:
    lost = {a.generation_id for a in completed if a.generation_id not in found}
    return (
        f"{len(lost)} of {len(completed)} completed generations {what}, e.g. "
        f"{sorted(g for g in lost if g)[:5]}; {fact_path(team.stack, lost)}"
    )


def _bounded(probe: Callable[[], bool], explain: Callable[[], str]) -> None:
    deadline = time.monotonic() + DRAIN_SECONDS
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"after {DRAIN_SECONDS:.0f} s: {explain()}")
        time.sleep(0.5)


def summary(attempts: list[Attempt]) -> str:
    """Counts by kind and outcome, for the failure messages and the log."""
    done = sum(a.completed for a in attempts)
    statuses: dict[str, int] = {}
    for a in attempts:
        if not a.completed:
            key = str(a.status) if a.status else (a.error.split(":")[0] or "?")
            statuses[key] = statuses.get(key, 0) + 1
    return f"{len(attempts)} requests, {done} completed, failed: {statuses}"
