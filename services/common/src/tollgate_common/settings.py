"""Settings every service shares, read from the environment (``TOLLGATE_DATA_DIR``, ``TOLLGATE_NATS_URL``, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tollgate_common.env_settings import EnvSettings, Secret, setting
from tollgate_common.internal_auth import InternalKeys

if TYPE_CHECKING:
    from tollgate_common.db import DatabaseTimeouts


class CommonSettings(EnvSettings):
    """Base class of each service's settings.

    Subclasses set their own ``env_prefix`` (``TOLLGATE_<SVC>_``); the fields below with an
    ``env`` name keep it whatever the prefix.
    """

    data_dir: Path = setting(default=Path(".tollgate"), env="TOLLGATE_DATA_DIR")
    nats_url: str = setting(
        default="nats://127.0.0.1:4233",
        env="TOLLGATE_NATS_URL",
    )
    # This service's NATS user and password (docs/architecture.md, "Trust"): ``tollgate up``
    # generates them; with an external NATS the operator does (docs/deploy.md).
    nats_user: str = setting(default="", env="TOLLGATE_NATS_USER")
    nats_password: Secret | None = setting(
        default=None,
        repr=False,
        env="TOLLGATE_NATS_PASSWORD",
    )
    log_level: str = setting(default="INFO", env="TOLLGATE_LOG_LEVEL")
    shutdown_grace_seconds: float = setting(
        default=10.0,
        env="TOLLGATE_SHUTDOWN_GRACE_SECONDS",
    )
    # Copies JetStream keeps of each stream's messages: 3 on a 3-node NATS cluster, 1 alone.
    nats_stream_replicas: int = setting(
        default=1,
        ge=1,
        le=5,
        env="TOLLGATE_NATS_STREAM_REPLICAS",
    )
    # How long the database may take (docs/deploy.md, "Database timeouts").
    db_connect_timeout_seconds: float = setting(
        default=10.0,
        gt=0,
        env="TOLLGATE_DB_CONNECT_TIMEOUT_SECONDS",
    )
    db_statement_timeout_seconds: float = setting(
        default=30.0,
        gt=0,
        env="TOLLGATE_DB_STATEMENT_TIMEOUT_SECONDS",
    )
    # ``host:port`` of this process's Prometheus endpoint (``TOLLGATE_<SVC>_METRICS_ADDR``, with
    # the subclass's prefix); empty serves none.
    metrics_addr: str = ""
    # The installation secret every internal call is authenticated with (docs/architecture.md,
    # "Trust"): its value, or the file that holds it. Neither: internal calls are not checked
    # (development only; ``tollgate up`` and the Kubernetes manifests always set one).
    internal_secret: Secret | None = setting(
        default=None,
        repr=False,
        env="TOLLGATE_INTERNAL_SECRET",
    )
    internal_secret_file: Path | None = setting(
        default=None,
        env="TOLLGATE_INTERNAL_SECRET_FILE",
    )

    # During a rotation of the secret: another secret whose tokens are accepted, never presented
    # (docs/deploy.md, "Internal trust"); its value or its file.
    internal_secret_accepted: Secret | None = setting(
        default=None,
        repr=False,
        env="TOLLGATE_INTERNAL_SECRET_ACCEPTED",
    )
    internal_secret_accepted_file: Path | None = setting(
        default=None,
        env="TOLLGATE_INTERNAL_SECRET_ACCEPTED_FILE",
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
