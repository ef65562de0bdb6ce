"""Wiring: engine → repository → service → servicer on the gRPC server, plus the consumer."""

from __future__ import annotations

from pathlib import Path

from tollgate.billing.v1 import billing_pb2_grpc
from tollgate_common.db import create_engine
from tollgate_common.grpc_server import GrpcService

from tollgate_billing.consumer import UsageConsumer
from tollgate_billing.repository import GenerationRepository
from tollgate_billing.service import BillingService
from tollgate_billing.servicer import SERVICE_NAME, BillingServicer
from tollgate_billing.settings import BillingSettings

BUS_CLIENT_NAME = "tollgate-billing"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class BillingApp:
    """The billing process. Build it inside the event loop; ``run()`` serves until a signal."""

    def __init__(self, settings: BillingSettings) -> None:
        self.settings = settings
        self.engine = create_engine(settings.database_url)
        self.service = BillingService(GenerationRepository(self.engine))
        self.consumer = UsageConsumer(self.service)
        self.grpc = GrpcService(
            "billing",
            settings.listen_addr,
            settings.shutdown_grace_seconds,
            metrics_addr=settings.metrics_addr,
        )
        billing_pb2_grpc.add_BillingServiceServicer_to_server(
            BillingServicer(self.service), self.grpc.server
        )
        self.grpc.add_service_name(SERVICE_NAME)
        # Cleanups run last-registered first: stop consuming → drain NATS → dispose the engine.
        self.grpc.on_shutdown(self.engine.dispose)

    async def _start_consumer(self) -> None:
        await self.consumer.attach(self.grpc, self.settings.nats_url, BUS_CLIENT_NAME)

    async def start(self) -> int:
        """Connect the bus, start consuming and serving; returns the gRPC port."""
        await self._start_consumer()
        try:
            return await self.grpc.start()
        except Exception:
            await self.grpc.shutdown()  # e.g. cannot listen: stop consuming, close again
            raise

    async def stop(self) -> None:
        await self.grpc.shutdown()

    async def run(self) -> None:
        """Serve until SIGINT/SIGTERM, then shut down gracefully."""
        await self._start_consumer()
        try:
            await self.grpc.run()
        except Exception:
            await self.grpc.shutdown()
            raise
