"""The auth service's settings (env prefix ``TOLLGATE_AUTH_``); secrets never in repr."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict
from tollgate_common.settings import CommonSettings


class AuthSettings(CommonSettings):
    """Everything the auth process reads from its environment.

    ``database_url`` defaults to ``<data dir>/auth.db``. The key pepper comes from
    ``TOLLGATE_AUTH_KEY_PEPPER``, else the file named by ``TOLLGATE_AUTH_KEY_PEPPER_FILE``,
    else ``<data dir>/auth-pepper`` (generated once, mode 0600).
    """

    model_config = SettingsConfigDict(
        env_prefix="TOLLGATE_AUTH_", extra="ignore", populate_by_name=True
    )

    listen_addr: str = "127.0.0.1:50061"
    database_url: str = Field(default="", repr=False)  # may hold a password
    migrate_on_start: bool = True
    key_pepper: SecretStr | None = None
    key_pepper_file: Path | None = None
    bootstrap_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TOLLGATE_BOOTSTRAP_API_KEY", "bootstrap_api_key"),
    )
    cache_ttl_seconds: float = Field(default=30.0, gt=0)
    negative_cache_ttl_seconds: float = Field(default=1.0, ge=0)
    cache_max_entries: int = Field(default=100_000, ge=1)
    last_used_flush_seconds: float = Field(default=60.0, gt=0)
    # While not following revocations over NATS, a cached key is trusted this long at most.
    offline_cache_max_age_seconds: float = Field(default=1.0, ge=0)

    @model_validator(mode="after")
    def _default_database_url(self) -> AuthSettings:
        if not self.database_url:
            self.database_url = self.sqlite_url("auth")
        return self

    @property
    def pepper_path(self) -> Path:
        """Where the generated pepper lives when none is configured."""
        return (self.data_dir / "auth-pepper").absolute()

    @property
    def bootstrap_key_path(self) -> Path:
        """Where a generated bootstrap key is written (mode 0600)."""
        return (self.data_dir / "bootstrap-key").absolute()
