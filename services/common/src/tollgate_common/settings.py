"""Settings every service shares, read from the environment (``TOLLGATE_DATA_DIR``, ``TOLLGATE_NATS_URL``, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tollgate_common.internal_auth import InternalKeys

if TYPE_CHECKING:
    from tollgate_common.db import DatabaseTimeouts


class CommonSettings(BaseSettings):
    """Base class of each service's settings.

    Subclasses set ``model_config`` with their own ``env_prefix`` (``TOLLGATE_<SVC>_``); the
    fields below keep their global names whatever the prefix.
    """

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    data_dir: Path = Field(
        default=Path(".tollgate"), validation_alias=AliasChoices("TOLLGATE_DATA_DIR", "data_dir")
    )
    nats_url: str = Field(
        default="nats://127.0.0.1:4233",
        validation_alias=AliasChoices("TOLLGATE_NATS_URL", "nats_url"),
    )
    # This service's NATS user and password (docs/architecture.md, "Trust"): ``tollgate up``
    # generates them; with an external NATS the operator does (docs/deploy.md).
    nats_user: str = Field(
        default="", validation_alias=AliasChoices("TOLLGATE_NATS_USER", "nats_user")
    )
    nats_password: SecretStr | None = Field(
        default=None,
        repr=False,
        validation_alias=AliasChoices("TOLLGATE_NATS_PASSWORD", "nats_password"),
    )
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("TOLLGATE_LOG_LEVEL", "log_level")
    )
    shutdown_grace_seconds: float = Field(
        default=10.0,
        validation_alias=AliasChoices("TOLLGATE_SHUTDOWN_GRACE_SECONDS", "shutdown_grace_seconds"),
    )
    # Copies JetStream keeps of each stream's messages: 3 on a 3-node NATS cluster, 1 alone.
    nats_stream_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        validation_alias=AliasChoices("TOLLGATE_NATS_STREAM_REPLICAS", "nats_stream_replicas"),
    )
    # How long the database may take (docs/deploy.md, "Database timeouts").
    db_connect_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        validation_alias=AliasChoices(
            "TOLLGATE_DB_CONNECT_TIMEOUT_SECONDS", "db_connect_timeout_seconds"
        ),
    )
    db_statement_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=AliasChoices(
            "TOLLGATE_DB_STATEMENT_TIMEOUT_SECONDS", "db_statement_timeout_seconds"
        ),
    )
    # ``host:port`` of this process's Prometheus endpoint (``TOLLGATE_<SVC>_METRICS_ADDR``, with
    # the subclass's prefix); empty serves none.
    metrics_addr: str = ""
    # The installation secret every internal call is authenticated with (docs/architecture.md,
    # "Trust"): its value, or the file that holds it. Neither: internal calls are not checked
    # (development only; ``tollgate up`` and the Kubernetes manifests always set one).
    internal_secret: SecretStr | None = Field(
        default=None,
        repr=False,
        validation_alias=AliasChoices("TOLLGATE_INTERNAL_SECRET", "internal_secret"),
    )
    internal_secret_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("TOLLGATE_INTERNAL_SECRET_FILE", "internal_secret_file"),
    )

    # During a rotation of the secret: another secret whose tokens are accepted, never presented
    # (docs/deploy.md, "Internal trust"); its value or its file.
    internal_secret_accepted: SecretStr | None = Field(
        default=None,
        repr=False,
        validation_alias=AliasChoices(
            "TOLLGATE_INTERNAL_SECRET_ACCEPTED", "internal_secret_accepted"
        ),
    )
    internal_secret_accepted_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "TOLLGATE_INTERNAL_SECRET_ACCEPTED_FILE", "internal_secret_accepted_file"
        ),
    )

    def sqlite_url(self, service: str) -> str:
        """The default database of ``service``: a SQLite file in the data dir."""
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{service}.db').resolve()}"

    def internal_keys(self) -> InternalKeys | None:
        """The installation secret's keys; None when none is configured."""
        value = self.internal_secret.get_secret_value() if self.internal_secret else ""
        accepted = self.internal_secret_accepted
        return InternalKeys.load(
            value,
            self.internal_secret_file,
            accepted.get_secret_value() if accepted else "",
            self.internal_secret_accepted_file,
        )

    def database_timeouts(self) -> DatabaseTimeouts:
        # Imported here: the edge shares these settings and has no database (SQLAlchemy is
        # ~19 MiB it would load for nothing).
        from tollgate_common.db import DatabaseTimeouts

        return DatabaseTimeouts(self.db_connect_timeout_seconds, self.db_statement_timeout_seconds)
