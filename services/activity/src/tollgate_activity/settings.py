"""Settings of the activity service (env prefix ``TOLLGATE_ACTIVITY_``)."""

from __future__ import annotations

from typing import ClassVar

from tollgate_common.env_settings import setting
from tollgate_common.settings import CommonSettings


class ActivitySettings(CommonSettings):
    env_prefix: ClassVar[str] = "TOLLGATE_ACTIVITY_"

    listen_addr: str = "127.0.0.1:50064"
    # Empty means the SQLite file in the data dir; repr=False: a PostgreSQL URL may hold a password.
    database_url: str = setting(default="", repr=False)
    migrate_on_start: bool = True
    # Raw request rows older than this are deleted (rollups are kept); docs/observability.md.
    request_retention_days: int = setting(default=30, ge=1)
    retention_interval_seconds: float = setting(default=3600.0, gt=0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.database_url:
            self.database_url = self.sqlite_url("activity")
