"""Wiring: engine → repositories → services → servicer, the consumers of usage and activity
facts and the retention sweep, all registered with the service runtime (which starts, serves
and stops them)."""

from __future__ import annotations

from pathlib import Path

from tollgate.activity.v1 import activity_pb2_grpc
from tollgate_common.db import create_engine
from tollgate_common.runtime import ServiceApp, ServiceRuntime

from tollgate_activity.activity_log.consumer import ActivityFactConsumer
from tollgate_activity.activity_log.repository import ActivityLogRepository
from tollgate_activity.activity_log.service import ActivityLogService
from tollgate_activity.request_log.consumer import UsageConsumer
from tollgate_activity.request_log.repository import RequestLogRepository
from tollgate_activity.request_log.retention import RetentionSweeper
from tollgate_activity.request_log.service import RequestLogService
from tollgate_activity.rollups.repository import RollupRepository
from tollgate_activity.rollups.service import ObservabilityService
from tollgate_activity.servicer import SERVICE_NAME, ActivityServicer
from tollgate_activity.settings import ActivitySettings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class ActivityApp(ServiceApp):
    """The activity process. Build it inside the event loop; ``run()`` serves until a signal.

    It consumes usage and activity facts, so it links NATS before it serves."""

    def __init__(self, settings: ActivitySettings) -> None:
        self.settings = settings
        self.runtime = runtime = ServiceRuntime("activity", settings, link_before_serving=True)
        self.engine = runtime.engine(
            create_engine(settings.database_url, settings.database_timeouts())
        )
        self.requests = RequestLogRepository(self.engine)
        self.request_log = RequestLogService(self.requests)
        self.activity_log = ActivityLogService(ActivityLogRepository(self.engine))
        self.observability = ObservabilityService(RollupRepository(self.engine))
        self.consumer = UsageConsumer(self.request_log)
        runtime.consume(self.consumer)
        self.activity_consumer = ActivityFactConsumer(self.activity_log)
        runtime.consume(self.activity_consumer)
        self.retention = RetentionSweeper(
            self.requests, settings.request_retention_days, settings.retention_interval_seconds
        )
        runtime.loop("retention", self.retention.run)
        runtime.serve(
            SERVICE_NAME,
            activity_pb2_grpc.add_ActivityServiceServicer_to_server,
            ActivityServicer(self.request_log, self.activity_log, self.observability),
        )
