"""The service runtime against a real nats-server, a real SQLite file and a real gRPC server on
port 0: the order of shutdown, and an outbox connected once NATS comes up after the service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import MetaData, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_common.bus import MSG_ID_HEADER, USAGE_RECORDED, Bus
from tollgate_common.db import create_engine
from tollgate_common.grpc_client import open_channel
from tollgate_common.outbox import Fact, Outbox, outbox_table
from tollgate_common.runtime import ServiceRuntime
from tollgate_common.testing import free_port, nats_server, nats_server_binary, wait_for_port


@dataclass(frozen=True)
class Settings:
    nats_url: str
    listen_addr: str = "127.0.0.1:0"
    metrics_addr: str = ""
    shutdown_grace_seconds: float = 5.0
    nats_stream_replicas: int = 1
    nats_user: str = ""
    nats_password: None = None

    def internal_keys(self) -> None:
        return None


@dataclass
class Service:
    runtime: ServiceRuntime
    engine: AsyncEngine
    outbox: Outbox
    events: list[str]


async def _service(
    tmp_path: Path, nats_url: str, *, link_before_serving: bool, stream_tail: float = 0.0
) -> Service:
    """A runtime serving one streaming method, ``/t.T/Generate``: it answers ``first``, then
    (``stream_tail`` seconds later) ``last``, then puts a fact in the outbox, as the router
    does at the end of a generation."""
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'service.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    runtime = ServiceRuntime("test", Settings(nats_url), link_before_serving=link_before_serving)
    runtime.engine(engine)
    outbox = runtime.outbox(Outbox(engine, table, retry_seconds=0.05))
    events: list[str] = []

    async def generate(request: bytes, context: Any) -> AsyncIterator[bytes]:
        yield b"first"
        await asyncio.sleep(stream_tail)
        yield b"last"
        outbox.put(Fact(USAGE_RECORDED, request.decode(), b"usage"))
        events.append("stream finished")

    async def background(stop: asyncio.Event) -> None:
        await stop.wait()
        events.append("background stopped")

    def record_disposal(*_: object) -> None:
        bus = runtime.bus
        closed = bus is not None and bus.nc.is_closed
        events.append(f"engine disposed (NATS {'drained' if closed else 'open'})")

    event.listen(engine.sync_engine, "engine_disposed", record_disposal)
    handlers = {"Generate": grpc.unary_stream_rpc_method_handler(generate)}

    def add(handler: grpc.GenericRpcHandler, server: grpc.aio.Server) -> None:
        server.add_generic_rpc_handlers((handler,))

    runtime.serve("t.T", add, grpc.method_handlers_generic_handler("t.T", handlers))
    runtime.loop("background", background)
    return Service(runtime, engine, outbox, events)


async def _eventually(probe: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await probe():
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.05)


async def _stored(engine: AsyncEngine) -> int:
    table = outbox_table(MetaData())
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _published(nats_url: str, msg_id: str) -> bool:
    bus = await Bus.connect(nats_url, "runtime-test-reader")
    try:
        message = await bus.js.get_last_msg("TOLLGATE_USAGE", USAGE_RECORDED)
        return (message.headers or {}).get(MSG_ID_HEADER) == msg_id
    finally:
        await bus.close()


async def test_shutdown_drains_streams_then_tasks_then_the_outbox_then_nats_then_the_engine(
    tmp_path: Path,
) -> None:
    with nats_server(tmp_path / "js") as nats_url:
        service = await _service(tmp_path, nats_url, link_before_serving=True, stream_tail=0.5)
        port = await service.runtime.start()
        assert service.runtime.bus is not None
        channel = open_channel(f"127.0.0.1:{port}")
        try:
            call = channel.unary_stream("/t.T/Generate")(b"gen_in_flight")
            assert await call.read() == b"first"
            stopping = asyncio.create_task(service.runtime.stop())
            assert await call.read() == b"last"  # the stream in flight runs to its end
            await asyncio.wait_for(stopping, 20)
        finally:
            await channel.close()

        assert service.events == [
            "stream finished",
            "background stopped",
            "engine disposed (NATS drained)",
        ]
        # The fact the stream put at its end was published (not kept in the table): the outbox
        # was flushed after the stream ended and before NATS drained.
        assert await _published(nats_url, "gen_in_flight")
        assert await _stored(service.engine) == 0


async def test_the_runtime_connects_the_outbox_once_nats_comes_up(tmp_path: Path) -> None:
    port = free_port()
    nats_url = f"nats://127.0.0.1:{port}"  # nothing listens there yet
    service = await _service(tmp_path, nats_url, link_before_serving=False)
    await service.runtime.start()
    try:
        assert service.runtime.bus is None
        service.outbox.put(Fact(USAGE_RECORDED, "gen_early", b"usage"))

        async def kept() -> bool:
            return await _stored(service.engine) == 1

        await _eventually(kept)  # no NATS: the fact waits in the table

        process = await asyncio.create_subprocess_exec(
            nats_server_binary(),
            *("-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp_path / "js")),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await asyncio.to_thread(wait_for_port, port)

            async def sent() -> bool:
                return service.runtime.bus is not None and await _stored(service.engine) == 0

            await _eventually(sent)
            assert await _published(nats_url, "gen_early")
        finally:
            await service.runtime.stop()
            process.terminate()
            await asyncio.wait_for(process.wait(), 10)
    finally:
        await service.runtime.stop()  # a second stop does nothing


async def test_a_failed_start_releases_what_was_started(tmp_path: Path) -> None:
    with nats_server(tmp_path / "js") as nats_url:
        first = await _service(tmp_path, nats_url, link_before_serving=True)
        port = await first.runtime.start()
        try:
            second = ServiceRuntime("second", Settings(nats_url, listen_addr=f"127.0.0.1:{port}"))
            engine = second.engine(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"))
            disposed: list[bool] = []
            event.listen(engine.sync_engine, "engine_disposed", lambda _: disposed.append(True))
            with pytest.raises(OSError, match="cannot listen"):
                await second.start()
            assert disposed == [True]
        finally:
            await first.runtime.stop()
