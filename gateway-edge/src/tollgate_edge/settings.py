"""The edge's settings, read from the environment (docs/internal-contracts.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from tollgate_common.env_settings import Secret, setting
from tollgate_common.settings import CommonSettings


def _peer(name: str, default: str) -> Any:
    return setting(
        default=default,
        env=f"TOLLGATE_{name.upper()}_ADDR",
    )


class EdgeSettings(CommonSettings):
    """``TOLLGATE_EDGE_*`` plus the global peer addresses ``TOLLGATE_<SVC>_ADDR``."""

    env_prefix: ClassVar[str] = "TOLLGATE_EDGE_"

    listen_addr: str = "127.0.0.1:8081"
    auth_addr: str = _peer("auth", "127.0.0.1:50061")
    router_addr: str = _peer("router", "127.0.0.1:50062")
    billing_addr: str = _peer("billing", "127.0.0.1:50063")
    activity_addr: str = _peer("activity", "127.0.0.1:50064")
    # Deadline of one generation (the whole stream), and of every other RPC.
    generation_deadline_seconds: float = setting(default=600.0, gt=0)
    rpc_deadline_seconds: float = setting(default=10.0, gt=0)
    # Long-lived streams that carry the generations to the router (a Generate or StreamGenerate
    # call each costs both sides several times more); 0: a call per generation.
    generation_lanes: int = setting(default=4, ge=0, le=64)
    # How long a /readyz answer is reused.
    readiness_cache_seconds: float = setting(default=1.0, ge=0)
    # Authentication of the hot model routes inside the edge (docs/architecture.md, "Trust"):
    # off only where Envoy authorizes those routes too (the edge's own tests, with fake peers).
    authenticate_hot_routes: bool = True
    # How long a credential auth accepted is reused without asking again (never past its own
    # expiry; revocations reach the cache as facts), and a refused one.
    auth_cache_seconds: float = setting(default=120.0, ge=0)
    auth_negative_cache_seconds: float = setting(default=2.0, ge=0)
    auth_cache_max_entries: int = setting(default=100_000, gt=0)
    # Auth Check calls in flight at once (a flood of made-up keys waits for these), and the
    # deadline of one (Envoy's ext_authz had 2 s).
    auth_check_concurrency: int = setting(default=32, gt=0)
    auth_check_deadline_seconds: float = setting(default=2.0, gt=0)
    # Largest request body accepted (Envoy enforces the public limit first).
    max_body_bytes: int = setting(default=32 * 1024 * 1024, gt=0)
    # Where the dashboard's npm dependencies are (``node_modules``); empty: the repository's
    # ``gateway-edge/dashboard/node_modules``, which ``make install`` fills.
    dashboard_assets_dir: Path | None = None
    # The shared secret of the payment hook (docs/billing.md, "Payments"); unset: the hook is off.
    payment_hook_secret: Secret | None = setting(
        default=None,
        repr=False,
        env="TOLLGATE_PAYMENT_HOOK_SECRET",
    )

    def listen_host_port(self) -> tuple[str, int]:
        """``host:port`` (or ``[v6]:port``) split for the socket."""
        host, _, port = self.listen_addr.rpartition(":")
        return host.strip("[]") or "127.0.0.1", int(port)
