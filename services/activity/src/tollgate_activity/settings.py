"""Settings of the activity service (env prefix ``TOLLGATE_ACTIVITY_``)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict
from tollgate_common.settings import CommonSettings


class ActivitySettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="TOLLGATE_ACTIVITY_", extra="ignore", populate_by_name=True
    )

    listen_addr: str = "127.0.0.1:50064"
    # Empty means the SQLite file in the data dir; repr=False: a PostgreSQL URL may hold a password.
    database_url: str = Field(default="", repr=False)
    migrate_on_start: bool = True
    # Raw request rows older than this are deleted (rollups are kept); docs/observability.md.
    request_retention_days: int = Field(default=30, ge=1)
    retention_interval_seconds: float = Field(default=3600.0, gt=0)

    @model_validator(mode="after")
    def _default_database(self) -> Self:
        if not self.database_url:
            self.database_url = self.sqlite_url("activity")
        return self
