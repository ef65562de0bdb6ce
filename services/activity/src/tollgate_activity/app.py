"""Wiring: engine → repositories → service → servicer, the consumers of usage and activity
facts and the retention sweep, all registered with the service runtime (which starts, serves
and stops them)."""

from __future__ import annotations

from pathlib import Path

from tollgate.activity.v1 import activity_pb2_grpc
from tollgate_common.db import create_engine
from tollgate_common.runtime import ServiceApp, ServiceRuntime

from tollgate_activity.activity_consumer import ActivityFactConsumer
from tollgate_activity.consumer import UsageConsumer
from tollgate_activity.event_repository import ActivityLogRepository
from tollgate_activity.repository import RequestLogRepository
from tollgate_activity.retention import RetentionSweeper
from tollgate_activity.service import ActivityService
from tollgate_activity.servicer import SERVICE_NAME, ActivityServicer
from tollgate_activity.settings import ActivitySettings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class ActivityApp(ServiceApp):
    """The activity process. Build it inside the event loop; ``run()`` serves until a signal.

    It consumes usage and activity facts, so it links NATS before it serves."""

    def __init__(self, settings: ActivitySettings) -> None:
        self.settings = settings
        self.runtime = runtime = ServiceRuntime("activity", settings, link_before_serving=True)
        self.engine = runtime.engine(create_engine(settings.database_url))
        self.requests = RequestLogRepository(self.engine)
        self.service = ActivityService(self.requests, ActivityLogRepository(self.engine))
        self.consumer = UsageConsumer(self.service)
        runtime.consume(self.consumer)
        self.activity_consumer = ActivityFactConsumer(self.service)
        runtime.consume(self.activity_consumer)
        self.retention = RetentionSweeper(
            self.requests, settings.request_retention_days, settings.retention_interval_seconds
        )
        runtime.loop("retention", self.retention.run)
        runtime.serve(
            SERVICE_NAME,
            activity_pb2_grpc.add_ActivityServiceServicer_to_server,
            ActivityServicer(self.service),
        )
