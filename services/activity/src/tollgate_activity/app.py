"""Wiring: engine → repositories → service → servicer on the gRPC server, plus the consumers
of usage and activity facts and the retention sweep, all owned by the server's lifetime."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tollgate.activity.v1 import activity_pb2_grpc
from tollgate_common.bus import Bus
from tollgate_common.db import create_engine
from tollgate_common.grpc_server import GrpcService

from tollgate_activity.activity_consumer import ActivityFactConsumer
from tollgate_activity.consumer import UsageConsumer
from tollgate_activity.event_repository import ActivityLogRepository
from tollgate_activity.repository import RequestLogRepository
from tollgate_activity.retention import RetentionSweeper
from tollgate_activity.service import ActivityService
from tollgate_activity.servicer import SERVICE_NAME, ActivityServicer
from tollgate_activity.settings import ActivitySettings

BUS_CLIENT_NAME = "tollgate-activity"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class ActivityApp:
    """The activity process. Build it inside the event loop; ``run()`` serves until a signal."""

    def __init__(self, settings: ActivitySettings) -> None:
        self.settings = settings
        self.engine = create_engine(settings.database_url)
        self.requests = RequestLogRepository(self.engine)
        self.service = ActivityService(self.requests, ActivityLogRepository(self.engine))
        self.consumer = UsageConsumer(self.service)
        self.grpc = GrpcService(
            "activity",
            settings.listen_addr,
            settings.shutdown_grace_seconds,
            metrics_addr=settings.metrics_addr,
        )
        self.activity_consumer = ActivityFactConsumer(self.service)
        self.retention = RetentionSweeper(
            self.requests, settings.request_retention_days, settings.retention_interval_seconds
        )
        activity_pb2_grpc.add_ActivityServiceServicer_to_server(
            ActivityServicer(self.service), self.grpc.server
        )
        self.grpc.add_service_name(SERVICE_NAME)
        # Cleanups run last-registered first: stop the tasks → drain NATS → dispose the engine.
        self.grpc.on_shutdown(self.engine.dispose)

    async def _start_background(self) -> None:
        bus = await Bus.connect(self.settings.nats_url, BUS_CLIENT_NAME)
        self.grpc.on_shutdown(bus.close)
        await bus.ensure_streams(replicas=self.settings.nats_stream_replicas)
        stop = asyncio.Event()
        self.consumer.instrument(self.grpc.registry)
        tasks = [
            asyncio.create_task(self.consumer.run(bus, stop), name="activity-usage-consumer"),
            asyncio.create_task(
                self.activity_consumer.run(bus, stop), name="activity-log-consumer"
            ),
            asyncio.create_task(self.retention.run(stop), name="activity-retention"),
        ]

        async def stop_background() -> None:
            stop.set()
            await asyncio.gather(*tasks)

        self.grpc.on_shutdown(stop_background)

    async def start(self) -> int:
        """Connect the bus, start consuming and serving; returns the gRPC port."""
        await self._start_background()
        try:
            return await self.grpc.start()
        except Exception:
            await self.grpc.shutdown()  # e.g. cannot listen: stop consuming, close again
            raise

    async def stop(self) -> None:
        await self.grpc.shutdown()

    async def run(self) -> None:
        """Serve until SIGINT/SIGTERM, then shut down gracefully."""
        await self._start_background()
        try:
            await self.grpc.run()
        except Exception:
            await self.grpc.shutdown()
            raise
