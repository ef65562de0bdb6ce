"""free_port hands out ports outside the kernel's ephemeral range, so that no client socket of
the machine can take one between the probe and the server's bind."""

from __future__ import annotations

import socket
from pathlib import Path

from tollgate_common.testing import free_port


def test_free_ports_are_bindable_and_below_the_ephemeral_range() -> None:
    ranges = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ranges.read_text().split()[0]) if ranges.exists() else 32768
    ports = {free_port() for _ in range(50)}
    assert len(ports) > 40  # spread, not one port over and over
    for port in ports:
        assert port < low
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))
