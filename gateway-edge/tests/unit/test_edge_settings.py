"""The environment the edge reads (docs/internal-contracts.md)."""

from __future__ import annotations

import pytest
from tollgate_edge.settings import EdgeSettings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EDGE_LISTEN_ADDR", "AUTH_ADDR", "ROUTER_ADDR", "BILLING_ADDR", "ACTIVITY_ADDR"):
        monkeypatch.delenv(f"TOLLGATE_{name}", raising=False)
    settings = EdgeSettings()
    assert settings.listen_addr == "127.0.0.1:8081"
    assert settings.listen_host_port() == ("127.0.0.1", 8081)
    assert (settings.auth_addr, settings.router_addr) == ("127.0.0.1:50061", "127.0.0.1:50062")
    assert (settings.billing_addr, settings.activity_addr) == ("127.0.0.1:50063", "127.0.0.1:50064")
    assert settings.generation_deadline_seconds == 600.0


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLLGATE_EDGE_LISTEN_ADDR", "[::1]:9000")
    monkeypatch.setenv("TOLLGATE_ROUTER_ADDR", "router:1234")
    monkeypatch.setenv("TOLLGATE_EDGE_GENERATION_DEADLINE_SECONDS", "30")
    settings = EdgeSettings()
    assert settings.listen_host_port() == ("::1", 9000)
    assert settings.router_addr == "router:1234"
    assert settings.generation_deadline_seconds == 30.0
