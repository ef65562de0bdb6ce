"""free_port hands out ports outside the kernel's ephemeral range, so that no client socket of
the machine can take one between the probe and the server's bind."""

from __future__ import annotations

import socket
from pathlib import Path

from tollgate_common.testing import free_port, free_ports, ports_in


def test_free_ports_are_bindable_and_below_the_ephemeral_range() -> None:
    ranges = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ranges.read_text().split()[0]) if ranges.exists() else 32768
    ports = {free_port() for _ in range(50)}
    assert len(ports) > 40  # spread, not one port over and over
    for port in ports:
        assert port < low
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))


def test_ports_from_one_call_are_distinct_and_avoid_the_taken_ones() -> None:
    taken = free_ports(20)
    assert len(set(taken)) == 20
    for _ in range(20):
        ports = free_ports(30, taken)
        assert len(set(ports)) == 30
        assert not set(ports) & set(taken)


def test_the_ports_named_in_an_environment() -> None:
    env = {
        "TOLLGATE_BILLING_METRICS_ADDR": "127.0.0.1:18001",
        "TOLLGATE_ROUTER_LISTEN_ADDR": "[::1]:18002",
        "TOLLGATE_PROVIDER_OPENAI_BASE_URL": "http://127.0.0.1:18003/v1",
        "TOLLGATE_ROUTER_CREDIT_LEASE": "1",
    }
    assert ports_in(env.values()) == [18001, 18002]
