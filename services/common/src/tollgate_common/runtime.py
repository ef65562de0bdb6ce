"""One service process's lifecycle, the same for every service.

A service's ``app.py`` builds its engine, repositories, services and servicers and registers
them here; :class:`ServiceRuntime` owns the rest: the gRPC server and its health service, the
link to NATS (connected with retries, streams ensured, drained), the outboxes (connected once
NATS is linked, flushed at the end), the background tasks with their one stop event, the
signals (:mod:`tollgate_common.lifecycle`, shared with the edge), and the order of shutdown:

1. health NOT_SERVING, stop accepting calls, let the calls in flight (streams) finish;
2. stop the background tasks (consumers, fact followers, loops), then the ``on_stop`` steps;
3. flush the outboxes (publish what was put, or store it);
4. drain NATS;
5. close what was registered with ``on_close`` (channels, sessions), then dispose the engines.

Build it, and everything registered with it, inside the running event loop (grpc.aio binds its
server to the loop it is created in).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

import grpc
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from tollgate_common.background import Background
from tollgate_common.bus import Bus
from tollgate_common.bus_link import BusLink
from tollgate_common.env_settings import Secret
from tollgate_common.grpc_server import GrpcService
from tollgate_common.internal_auth import InternalKeys
from tollgate_common.lifecycle import Step, run_until_stopped, shutdown_step
from tollgate_common.metrics import ConsumerMetrics
from tollgate_common.outbox import Outbox

log = logging.getLogger(__name__)

Servicer = TypeVar("Servicer")


class RuntimeSettings(Protocol):
    """What the runtime reads of a service's settings."""

    @property
    def listen_addr(self) -> str: ...
    @property
    def metrics_addr(self) -> str: ...
    @property
    def shutdown_grace_seconds(self) -> float: ...
    @property
    def nats_url(self) -> str: ...
    @property
    def nats_stream_replicas(self) -> int: ...
    @property
    def nats_user(self) -> str: ...
    @property
    def nats_password(self) -> Secret | None: ...
    def internal_keys(self) -> InternalKeys | None: ...


class Consumer(Protocol):
    """A durable consumer of facts (e.g. :class:`tollgate_common.fact_consumer.FactConsumer`)."""

    @property
    def durable(self) -> str: ...
    def instrument(self, metrics: ConsumerMetrics) -> None: ...
    async def run(self, bus: Bus, stop: asyncio.Event) -> None: ...


class ServiceRuntime:
    """Register everything first, then :meth:`start` / :meth:`stop`, or :meth:`run` until a
    signal. ``link_before_serving``: :meth:`start` links NATS before serving and fails if it
    cannot (a service that exists to consume facts); otherwise NATS is linked in the background
    and the service serves meanwhile."""

    def __init__(
        self, name: str, settings: RuntimeSettings, *, link_before_serving: bool = False
    ) -> None:
        self.name = name
        self._grace = settings.shutdown_grace_seconds
        # The installation secret: checks this server's callers, and is what this service's
        # own channels (``self.keys``) present to its peers.
        self.keys = settings.internal_keys()
        self._grpc = GrpcService(
            name,
            settings.listen_addr,
            self._grace,
            metrics_addr=settings.metrics_addr,
            keys=self.keys,
        )
        self._link = BusLink(
            settings.nats_url,
            f"tollgate-{name}",
            replicas=settings.nats_stream_replicas,
            close_timeout=self._grace,
            user=settings.nats_user,
            password=settings.nats_password.get_secret_value() if settings.nats_password else "",
        )
        self._link_first = link_before_serving
        self._background = Background()
        self._stop_requested = asyncio.Event()
        self._starting: list[Step] = []
        self._stopping: list[Step] = []
        self._closing: list[Step] = []
        self._engines: list[AsyncEngine] = []
        self._outboxes: list[Outbox] = []
        self._relays: list[asyncio.Task[None]] = []
        self._loops: list[tuple[str, Callable[[asyncio.Event], Awaitable[None]]]] = []
        self._cancellable: list[tuple[str, Step]] = []
        self._on_bus: list[tuple[str, Callable[[Bus, asyncio.Event], Awaitable[None]]]] = []
        self._consumer_metrics: ConsumerMetrics | None = None
        self._started = self._stopped = False

    @property
    def registry(self) -> CollectorRegistry:
        """The process's Prometheus registry: services add their own metrics to it."""
        return self._grpc.registry

    @property
    def bus(self) -> Bus | None:
        """The NATS connection once linked."""
        return self._link.bus

    # Registration (before start).

    def serve(
        self,
        health_name: str,
        add: Callable[[Servicer, grpc.aio.Server], None],
        servicer: Servicer,
    ) -> None:
        """Serve ``servicer`` (``add`` is its generated ``add_…_to_server``), reported by the
        health service as ``health_name``."""
        add(servicer, self._grpc.server)
        self._grpc.add_service_name(health_name)

    def on_drain(self, drain: Callable[[], None]) -> None:
        """Call ``drain()`` at shutdown once the server refuses new calls (GrpcService)."""
        self._grpc.on_drain(drain)

    def observe_call(self, method: str, code: str, seconds: float) -> None:
        """Count a call carried inside a stream in the server's call metrics."""
        self._grpc.call_metrics.observe(method, code, seconds)

    def engine(self, engine: AsyncEngine) -> AsyncEngine:
        """Dispose ``engine`` last, after NATS has drained."""
        self._engines.append(engine)
        return engine

    def outbox(self, outbox: Outbox) -> Outbox:
        """Relay ``outbox`` for the life of the service: connected once NATS is linked, flushed
        after the background tasks stopped and before NATS drains."""
        self._outboxes.append(outbox)
        return outbox

    def consume(self, consumer: Consumer) -> None:
        """Run ``consumer`` once NATS is linked, counted in the process's metrics."""
        if self._consumer_metrics is None:
            self._consumer_metrics = ConsumerMetrics(self.registry)
        consumer.instrument(self._consumer_metrics)
        self._on_bus.append((consumer.durable, consumer.run))

    def follow(
        self, name: str, run: Callable[[Bus], Awaitable[None]], close: Callable[[], None]
    ) -> None:
        """Run ``run(bus)`` once NATS is linked; at the stop ``close()`` makes it return."""

        async def following(bus: Bus, stop: asyncio.Event) -> None:
            await _until(run(bus), stop, close)

        self._on_bus.append((name, following))

    def loop(self, name: str, run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        """Run ``run(stop)`` in the background; it returns once ``stop`` is set."""
        self._loops.append((name, run))

    def task(self, name: str, run: Step) -> None:
        """Run ``run()`` in the background; it is cancelled at the stop."""
        self._cancellable.append((name, run))

    def on_start(self, step: Step) -> None:
        """Run ``step`` at start, before anything else (in the order registered)."""
        self._starting.append(step)

    def on_stop(self, step: Step) -> None:
        """Run ``step`` once the background tasks stopped, before the outboxes flush."""
        self._stopping.append(step)

    def on_close(self, step: Step) -> None:
        """Run ``step`` after NATS has drained, before the engines are disposed (the last
        registered first)."""
        self._closing.append(step)

    # Lifecycle.

    async def start(self) -> int:
        """Start everything and listen; returns the gRPC port. On failure, what was started
        is stopped again."""
        if self._started:
            raise RuntimeError(f"{self.name} was started already")
        self._started = True
        try:
            for step in self._starting:
                await step()
            self._relays = [
                asyncio.create_task(outbox.run(), name=f"{self.name}-outbox-relay")
                for outbox in self._outboxes
            ]
            if self._link_first:
                await self._connect(retry=False)
            else:
                self._spawn("nats", self._connect(retry=True), cancel=True)
            for name, run in self._cancellable:
                self._spawn(name, _coroutine(run()), cancel=True)
            for name, loop in self._loops:
                self._spawn(name, _coroutine(loop(self._background.stopping)), cancel=False)
            for name, on_bus in self._on_bus:
                self._spawn(name, self._when_linked(on_bus), cancel=False)
            return await self._grpc.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Shut down in order (see the module's docstring); a second call does nothing."""
        if self._stopped:
            return
        self._stopped = True
        log.info("%s shutting down", self.name)
        await self._step("stop serving", self._grpc.shutdown)
        await self._background.stop(self._grace)
        for step in self._stopping:
            await self._step("stop", step)
        for outbox, relay in zip(self._outboxes, self._relays, strict=False):
            await self._step("flush the outbox", functools.partial(self._flush, outbox, relay))
        await self._step("drain NATS", self._link.close)
        for step in reversed(self._closing):
            await self._step("close", step)
        for engine in reversed(self._engines):
            await self._step("dispose the engine", engine.dispose)
        log.info("%s stopped", self.name)

    def request_stop(self) -> None:
        """Make :meth:`run` shut down, as SIGINT / SIGTERM do."""
        self._stop_requested.set()

    async def run(self) -> None:
        """Start, serve until SIGINT / SIGTERM (or :meth:`request_stop`), then shut down."""
        await run_until_stopped(self.start, self.stop, self._stop_requested)

    # Internals.

    async def _connect(self, *, retry: bool) -> None:
        bus = await self._link.connect(retry=retry)
        for outbox in self._outboxes:
            outbox.connect(bus)

    async def _when_linked(self, run: Callable[[Bus, asyncio.Event], Awaitable[None]]) -> None:
        stop = self._background.stopping
        bus = await self._link.wait(stop)
        if bus is not None:
            await run(bus, stop)

    def _spawn(self, name: str, work: Coroutine[Any, Any, None], *, cancel: bool) -> None:
        self._background.start(f"{self.name}-{name}", work, cancel=cancel)

    async def _flush(self, outbox: Outbox, relay: asyncio.Task[None]) -> None:
        await outbox.close()
        try:
            await asyncio.wait_for(relay, self._grace)
        except TimeoutError:
            # Cancelled: the relay logs how many facts it published, stored and lost.
            log.warning("outbox relay did not finish in time")

    async def _step(self, what: str, step: Step) -> None:
        await shutdown_step(self.name, what, step)


class ServiceApp:
    """A service process: its constructor builds the parts and registers them with
    :attr:`runtime` (wiring only); starting, stopping and serving are the runtime's."""

    runtime: ServiceRuntime

    async def start(self) -> int:
        """Start and listen; returns the gRPC port."""
        return await self.runtime.start()

    async def stop(self) -> None:
        await self.runtime.stop()

    async def run(self) -> None:
        """Serve until SIGINT / SIGTERM, then shut down gracefully."""
        await self.runtime.run()


async def _coroutine(work: Awaitable[None]) -> None:
    await work


async def _until(work: Awaitable[None], stop: asyncio.Event, close: Callable[[], None]) -> None:
    """Await ``work``; once ``stop`` is set, ``close()`` and let it return."""
    working = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((working, stopping), return_when=asyncio.FIRST_COMPLETED)
        close()
        await working
    finally:
        working.cancel()
        stopping.cancel()
